package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func init() {
	register("forward", "TCP forwarder LISTEN=TARGET (exposes loopback-only servers on the pod bridge)", runForward)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// runForward accepts on each listen address and copies bytes to its target.
// It exists because kube-apiserver and kubelet listen on 127.0.0.1 only, while
// pods (the kubernetes Service endpoint) and the node address must be a
// non-loopback IP: the gateway IP of the cluster's own pod bridge.
func runForward(args []string) int {
	fs := flag.NewFlagSet("forward", flag.ContinueOnError)
	var pairs multiFlag
	fs.Var(&pairs, "map", "LISTEN_ADDR:PORT=TARGET_ADDR:PORT (repeatable)")
	wait := fs.Duration("wait-listen", 30*time.Second, "how long to retry a listen address that is not there yet")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(pairs) == 0 {
		fmt.Fprintln(os.Stderr, "forward: at least one --map is required")
		return 2
	}
	for _, p := range pairs {
		listen, target, ok := strings.Cut(p, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "forward: bad --map %q\n", p)
			return 2
		}
		var l net.Listener
		var err error
		deadline := time.Now().Add(*wait)
		for {
			l, err = net.Listen("tcp", listen)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "forward:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "forward: %s -> %s\n", listen, target)
		go serve(l, target)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return 0
}

func serve(l net.Listener, target string) {
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "forward: accept:", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go func() {
			defer c.Close()
			t, err := net.DialTimeout("tcp", target, 10*time.Second)
			if err != nil {
				fmt.Fprintln(os.Stderr, "forward: dial:", err)
				return
			}
			defer t.Close()
			var wg sync.WaitGroup
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				_, _ = io.Copy(dst, src)
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			}
			go pipe(t, c)
			go pipe(c, t)
			wg.Wait()
		}()
	}
}
