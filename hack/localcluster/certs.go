package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func init() {
	register("certs", "generate CA, serving/client certs, service-account keys and kubeconfigs", runCerts)
}

// leaf describes one certificate signed by the cluster CA.
type leaf struct {
	name   string // file stem: <name>.crt / <name>.key
	cn     string
	orgs   []string
	server bool
	client bool
	dns    []string
	ips    []net.IP
}

func runCerts(args []string) int {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	dir := fs.String("dir", "", "output directory for keys, certs and kubeconfigs (required)")
	nodeName := fs.String("node-name", "lifecycle-node", "node name (kubelet client cert CN system:node:<name>)")
	server := fs.String("server", "https://127.0.0.1:6443", "API server URL written into the kubeconfigs")
	apiIPs := fs.String("apiserver-ips", "127.0.0.1,10.96.0.1", "comma-separated IP SANs of the API server certificate")
	nodeIPs := fs.String("node-ips", "127.0.0.1", "comma-separated IP SANs of the kubelet serving certificate")
	nodeSuffix := fs.String("node-suffix", "", "suffix of the node's files: kubelet<S>.crt/.key/.kubeconfig, kubelet-server<S>.crt/.key (a second node: -2)")
	nodeOnly := fs.Bool("node-only", false, "write only the node's files (kubelet client and serving certs, kubelet kubeconfig), signed by the existing CA")
	validity := fs.Duration("validity", 365*24*time.Hour, "validity of every certificate")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "certs: --dir is required")
		return 2
	}
	n := node{name: *nodeName, suffix: *nodeSuffix, ips: parseIPs(*nodeIPs)}
	if err := generateAll(*dir, n, *nodeOnly, *server, parseIPs(*apiIPs), *validity); err != nil {
		fmt.Fprintln(os.Stderr, "certs:", err)
		return 1
	}
	return 0
}

func parseIPs(s string) []net.IP {
	var ips []net.IP
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if ip := net.ParseIP(f); ip != nil {
			ips = append(ips, ip)
		} else {
			fmt.Fprintf(os.Stderr, "certs: ignoring invalid IP %q\n", f)
		}
	}
	return ips
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// node is the kubelet whose client and serving certificates are written.
type node struct {
	name   string   // node name: client cert CN system:node:<name>
	suffix string   // file name suffix ("" for the first node, "-2" for a second one)
	ips    []net.IP // IP SANs of its serving certificate
}

// generateAll is idempotent: existing files are kept, so a restarted cluster
// keeps its CA and every kubeconfig handed out stays valid. nodeOnly writes
// only the node's files (another node joining a cluster whose CA exists).
func generateAll(dir string, n node, nodeOnly bool, server string, apiIPs []net.IP, validity time.Duration) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if nodeOnly && !exists(filepath.Join(dir, "ca.crt")) {
		return fmt.Errorf("--node-only: no CA in %s (run certs without --node-only first)", dir)
	}
	caCert, caKey, err := loadOrCreateCA(dir, validity)
	if err != nil {
		return err
	}

	type kcfg struct{ file, cert, user string }
	nodeLeaves := []leaf{
		{name: "kubelet-server" + n.suffix, cn: n.name, server: true, dns: []string{n.name, "localhost"}, ips: n.ips},
		{name: "kubelet" + n.suffix, cn: "system:node:" + n.name, orgs: []string{"system:nodes"}, client: true},
	}
	nodeKubeconfig := kcfg{"kubelet" + n.suffix + ".kubeconfig", "kubelet" + n.suffix, "system:node:" + n.name}
	leaves := []leaf{
		{name: "apiserver", cn: "kube-apiserver", server: true,
			dns: []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"},
			ips: apiIPs},
		{name: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}, client: true},
		nodeLeaves[0],
		{name: "admin", cn: "kubernetes-admin", orgs: []string{"system:masters"}, client: true},
		{name: "controller-manager", cn: "system:kube-controller-manager", client: true},
		{name: "scheduler", cn: "system:kube-scheduler", client: true},
		nodeLeaves[1],
		{name: "kube-proxy", cn: "system:kube-proxy", client: true},
	}
	kubeconfigs := []kcfg{
		{"admin.kubeconfig", "admin", "kubernetes-admin"},
		{"controller-manager.kubeconfig", "controller-manager", "system:kube-controller-manager"},
		{"scheduler.kubeconfig", "scheduler", "system:kube-scheduler"},
		nodeKubeconfig,
		{"kube-proxy.kubeconfig", "kube-proxy", "system:kube-proxy"},
	}
	if nodeOnly {
		leaves, kubeconfigs = nodeLeaves, []kcfg{nodeKubeconfig}
	}
	for _, l := range leaves {
		if exists(filepath.Join(dir, l.name+".crt")) && exists(filepath.Join(dir, l.name+".key")) {
			continue
		}
		if err := createLeaf(dir, l, caCert, caKey, validity); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
	}

	if !nodeOnly && !exists(filepath.Join(dir, "sa.key")) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			return err
		}
		if err := writePEM(filepath.Join(dir, "sa.pub"), "PUBLIC KEY", pub, 0o644); err != nil {
			return err
		}
		if err := writePEM(filepath.Join(dir, "sa.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k), 0o600); err != nil {
			return err
		}
	}

	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return err
	}
	for _, kc := range kubeconfigs {
		p := filepath.Join(dir, kc.file)
		if exists(p) {
			continue
		}
		crt, err := os.ReadFile(filepath.Join(dir, kc.cert+".crt"))
		if err != nil {
			return err
		}
		key, err := os.ReadFile(filepath.Join(dir, kc.cert+".key"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(kubeconfig(server, kc.user, caPEM, crt, key)), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func kubeconfig(server, user string, ca, crt, key []byte) string {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: localcluster
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: localcluster
  context:
    cluster: localcluster
    user: %s
current-context: localcluster
`, server, b64(ca), user, b64(crt), b64(key), user)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
}

func loadOrCreateCA(dir string, validity time.Duration) (*x509.Certificate, crypto.Signer, error) {
	crtPath, keyPath := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if exists(crtPath) && exists(keyPath) {
		return loadPair(crtPath, keyPath)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "lifecycle-localcluster-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity * 10),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, nil, err
	}
	if err := writePEM(crtPath, "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func createLeaf(dir string, l leaf, ca *x509.Certificate, caKey crypto.Signer, validity time.Duration) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	sn, err := serial()
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: l.cn, Organization: l.orgs},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		DNSNames:              l.dns,
		IPAddresses:           l.ips,
	}
	if l.server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if l.client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, l.name+".key"), key); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, l.name+".crt"), "CERTIFICATE", der, 0o644)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func loadPair(crtPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	crtPEM, err := os.ReadFile(crtPath)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(crtPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("bad PEM in " + crtPath + " or " + keyPath)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}
