package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func init() {
	register("wait-http", "poll an http(s) URL until it answers 200 (optional client cert)", runWaitHTTP)
	register("cri-cleanup", "stop and remove every pod sandbox and container through CRI", runCRICleanup)
}

// waitHTTP is what wait-http is asked to do.
type waitHTTP struct {
	ca, cert, key string
	timeout       time.Duration
	quiet         bool
}

func (w *waitHTTP) flags(fs *flag.FlagSet) {
	fs.StringVar(&w.ca, "ca", "", "CA bundle for https")
	fs.StringVar(&w.cert, "cert", "", "client certificate")
	fs.StringVar(&w.key, "key", "", "client key")
	fs.DurationVar(&w.timeout, "timeout", 60*time.Second, "give up after this long")
	fs.BoolVar(&w.quiet, "q", false, "print nothing on success")
}

func runWaitHTTP(args []string) int {
	fs := flag.NewFlagSet("wait-http", flag.ContinueOnError)
	var w waitHTTP
	w.flags(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: localcluster wait-http [--ca F --cert F --key F] [--timeout D] URL")
		return 2
	}
	url := fs.Arg(0)
	tlsCfg := &tls.Config{}
	if w.ca != "" {
		pem, err := os.ReadFile(w.ca)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wait-http:", err)
			return 2
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tlsCfg.RootCAs = pool
	}
	if w.cert != "" {
		pair, err := tls.LoadX509KeyPair(w.cert, w.key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wait-http:", err)
			return 2
		}
		tlsCfg.Certificates = []tls.Certificate{pair}
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg, Proxy: nil}}
	deadline := time.Now().Add(w.timeout)
	var last string
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if !w.quiet {
					fmt.Fprintf(os.Stderr, "wait-http: %s ok\n", url)
				}
				return 0
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "wait-http: %s not ready after %s: %s\n", url, w.timeout, last)
			return 1
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// runCRICleanup is what `crictl rmp -af` would do (crictl is not packaged in
// Debian 12): stopping a sandbox through CRI lets containerd run CNI DEL,
// unmount the sandbox's shm and remove its network namespace.
func runCRICleanup(args []string) int {
	fs := flag.NewFlagSet("cri-cleanup", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "CRI endpoint, unix:///path/containerd.sock (required)")
	timeout := fs.Duration("timeout", 60*time.Second, "overall timeout")
	if err := fs.Parse(args); err != nil || *endpoint == "" {
		fmt.Fprintln(os.Stderr, "usage: localcluster cri-cleanup --endpoint unix:///path.sock")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := grpc.NewClient(*endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cri-cleanup:", err)
		return 1
	}
	defer conn.Close()
	rs := runtimeapi.NewRuntimeServiceClient(conn)
	failed := false
	// StopPodSandbox kills the sandbox's containers without a grace period:
	// this is a teardown, nothing is waited for.
	sbs, err := rs.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cri-cleanup: list sandboxes:", err)
		return 1
	}
	for _, sb := range sbs.Items {
		if _, err := rs.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			fmt.Fprintf(os.Stderr, "cri-cleanup: stop sandbox %s: %v\n", sb.Id[:12], err)
			failed = true
		}
		if _, err := rs.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			fmt.Fprintf(os.Stderr, "cri-cleanup: remove sandbox %s: %v\n", sb.Id[:12], err)
			failed = true
		}
	}
	ctrs, err := rs.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err == nil {
		for _, c := range ctrs.Containers {
			if _, err := rs.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id}); err != nil {
				fmt.Fprintf(os.Stderr, "cri-cleanup: remove container %s: %v\n", c.Id[:12], err)
				failed = true
			}
		}
	}
	fmt.Fprintf(os.Stderr, "cri-cleanup: removed %d sandboxes\n", len(sbs.Items))
	if failed {
		return 1
	}
	return 0
}
