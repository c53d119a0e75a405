// Gives build pods in a namespace their identity: a ServiceAccount whose Role may read
// ImageBuilds and patch their status. The ValidatingAdmissionPolicy in config/rbac narrows that
// to the pod's own ImageBuild, using the pod name bound into the ServiceAccount token.
import type { CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { GROUP, IMAGE_BUILD_PLURAL } from "../api/v1alpha1/index.js";
import { LABELS, MANAGED_BY } from "../build/names.js";
import { isAlreadyExists } from "../runtime/api-errors.js";

/** Re-check a namespace this often, so an access object deleted by hand comes back. */
const RECHECK_MS = 5 * 60_000;

export class WorkerAccess {
  private readonly ensured = new Map<string, number>();
  /**
   * The creation under way per namespace: a namespace's first builds are reconciled concurrently,
   * and without sharing it each of them sent the same three creates (all but one AlreadyExists).
   */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly rbac: RbacAuthorizationV1Api,
    private readonly serviceAccount: string,
    private readonly now: () => number = Date.now,
  ) {}

  async ensure(namespace: string): Promise<void> {
    const at = this.ensured.get(namespace);
    if (at !== undefined && this.now() - at < RECHECK_MS) return;
    const running = this.inFlight.get(namespace);
    if (running) return running;
    const creating = this.create(namespace).finally(() => this.inFlight.delete(namespace));
    this.inFlight.set(namespace, creating);
    return creating;
  }

  private async create(namespace: string): Promise<void> {
    const name = this.serviceAccount;
    const metadata = { name, namespace, labels: { [LABELS.managedBy]: MANAGED_BY } };
    await ignoreExists(this.core.createNamespacedServiceAccount({ namespace, body: { metadata } }));
    await ignoreExists(
      this.rbac.createNamespacedRole({
        namespace,
        body: {
          metadata,
          rules: [
            { apiGroups: [GROUP], resources: [IMAGE_BUILD_PLURAL], verbs: ["get"] },
            { apiGroups: [GROUP], resources: [`${IMAGE_BUILD_PLURAL}/status`], verbs: ["get", "patch"] },
          ],
        },
      }),
    );
    await ignoreExists(
      this.rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata,
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
          subjects: [{ kind: "ServiceAccount", name, namespace }],
        },
      }),
    );
    this.ensured.set(namespace, this.now());
  }
}

async function ignoreExists(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}
