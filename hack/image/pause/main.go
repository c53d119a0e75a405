// pause: the pod sandbox ("infra") container for a local containerd node, which cannot pull
// Kubernetes' own pause image. It holds the pod's namespaces open, reaps orphans (it is PID 1
// when the pod shares its PID namespace) and otherwise waits for SIGTERM or SIGINT, then exits 0.
// Built static (CGO_ENABLED=0) into a FROM scratch image by hack/image/pause.sh.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			return
		}
		for {
			if pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
