//go:build !kubelet_only

// The control plane's components, kubectl and kube-proxy: left out of a
// kubelet-only build (build.sh --kubelet-only), which a node of an older row
// than the control plane runs.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as in the upstream kube-apiserver/kcm mains

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func init() {
	register("kube-apiserver", "upstream kube-apiserver", func([]string) int {
		return cli.Run(apiserver.NewAPIServerCommand())
	})
	register("kube-controller-manager", "upstream kube-controller-manager", func([]string) int {
		return cli.Run(controllermanager.NewControllerManagerCommand())
	})
	register("kube-scheduler", "upstream kube-scheduler", func([]string) int {
		return cli.Run(scheduler.NewSchedulerCommand())
	})
	register("kube-proxy", "upstream kube-proxy", func([]string) int {
		return cli.Run(proxy.NewProxyCommand())
	})
	register("kubectl", "upstream kubectl", func([]string) int {
		_, _ = logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args))
		if err := cli.RunNoErrOutput(kubectlcmd.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err) // prints and exits non-zero
		}
		return 0
	})
}
