package main

import (
	"context"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

func init() {
	register("kubelet", "upstream kubelet", func([]string) int {
		return cli.Run(kubelet.NewKubeletCommand(context.Background()))
	})
}
