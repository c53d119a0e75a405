// /metrics behind the apiserver's TokenReview and SubjectAccessReview (--metrics-auth).
import { AuthenticationV1Api, AuthorizationV1Api } from "@kubernetes/client-node";
import type { RestClient } from "../../runtime/kube.js";
import { type MetricsAuth, metricsAuth } from "../../runtime/metrics-auth.js";

export function apiserverMetricsAuth(rest: RestClient): MetricsAuth {
  const authn = rest.api(AuthenticationV1Api);
  const authz = rest.api(AuthorizationV1Api);
  return metricsAuth({
    tokenReview: async (token) => {
      const review = await authn.createTokenReview({
        body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
      });
      const user = review.status?.user;
      if (!review.status?.authenticated || !user?.username) return undefined;
      return {
        name: user.username,
        ...(user.uid ? { uid: user.uid } : {}),
        groups: user.groups ?? [],
        ...(user.extra ? { extra: user.extra } : {}),
      };
    },
    accessReview: async (user, path, verb) => {
      const sar = await authz.createSubjectAccessReview({
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: user.name,
            ...(user.uid ? { uid: user.uid } : {}),
            groups: user.groups ?? [],
            ...(user.extra ? { extra: user.extra } : {}),
            nonResourceAttributes: { path, verb },
          },
        },
      });
      return {
        allowed: sar.status?.allowed === true,
        ...(sar.status?.reason ? { reason: sar.status.reason } : {}),
      };
    },
  });
}
