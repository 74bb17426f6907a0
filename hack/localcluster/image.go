package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"
)

func init() {
	register("image", "build an OCI image archive for `ctr images import` (testbox | pause)", runImage)
}

// entry is one file system object of a single-layer image.
type entry struct {
	path     string // without leading slash
	typ      byte   // tar.TypeDir, tar.TypeReg, tar.TypeSymlink
	mode     int64
	uid, gid int
	data     []byte
	link     string
}

type imageSpec struct {
	ref        string // full reference, e.g. localhost/x/y:tag
	entries    []entry
	user       string
	env        []string
	entrypoint []string
	cmd        []string
	workdir    string
}

// epoch is the fixed mtime of every file, so the same inputs give the same digests.
var epoch = time.Unix(0, 0).UTC()

func runImage(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: localcluster image testbox|pause [flags]")
		return 2
	}
	kind := args[0]
	fs := flag.NewFlagSet("image "+kind, flag.ContinueOnError)
	out := fs.String("out", "", "output OCI archive path (required)")
	ref := fs.String("ref", "", "image reference to record in the archive (required)")
	busybox := fs.String("busybox", "/bin/busybox", "static busybox binary (testbox)")
	pauseBin := fs.String("pause", "", "static pause binary (pause)")
	variant := fs.String("variant", "", "testbox: a name written to /etc/testbox-variant, so that a second testbox has its own digest (an image update must change the image, not only its name)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *out == "" || *ref == "" {
		fmt.Fprintln(os.Stderr, "image: --out and --ref are required")
		return 2
	}
	var spec *imageSpec
	var err error
	switch kind {
	case "testbox":
		spec, err = testboxSpec(*ref, *busybox, *variant)
	case "pause":
		spec, err = pauseSpec(*ref, *pauseBin)
	default:
		err = fmt.Errorf("unknown image kind %q", kind)
	}
	if err == nil {
		var digest string
		digest, err = writeOCIArchive(*out, spec)
		if err == nil {
			fmt.Printf("%s %s\n", spec.ref, digest)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		return 1
	}
	return 0
}

const nonroot = 65532

func testboxSpec(ref, busybox, variant string) (*imageSpec, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, err
	}
	// The applet list comes from the binary itself, with the paths busybox
	// would install them at (bin/sh, usr/bin/awk, sbin/adjtimex, ...).
	listing, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", busybox, err)
	}
	dirs := map[string]entry{}
	addDir := func(p string, mode int64, uid int) {
		for d := p; d != "." && d != "/" && d != ""; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = entry{path: d, typ: tar.TypeDir, mode: 0o755}
			}
		}
		dirs[p] = entry{path: p, typ: tar.TypeDir, mode: mode, uid: uid, gid: uid}
	}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "var", "run"} {
		addDir(d, 0o755, 0)
	}
	addDir("tmp", 0o1777, 0)
	addDir("var/tmp", 0o1777, 0)
	addDir("root", 0o700, 0)
	addDir("home/nonroot", 0o755, nonroot)

	var files []entry
	files = append(files,
		entry{path: "bin/busybox", typ: tar.TypeReg, mode: 0o755, data: bin},
		entry{path: "etc/passwd", typ: tar.TypeReg, mode: 0o644, data: []byte(
			"root:x:0:0:root:/root:/bin/sh\n" +
				fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/bin/sh\n", nonroot, nonroot) +
				"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		entry{path: "etc/group", typ: tar.TypeReg, mode: 0o644, data: []byte(
			"root:x:0:\n" + fmt.Sprintf("nonroot:x:%d:\n", nonroot) + "nogroup:x:65534:\n")},
		entry{path: "etc/nsswitch.conf", typ: tar.TypeReg, mode: 0o644, data: []byte("hosts: files dns\n")},
	)
	seen := map[string]bool{"bin/busybox": true}
	for _, line := range strings.Split(string(listing), "\n") {
		p := strings.TrimPrefix(strings.TrimSpace(line), "/")
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		addDir(path.Dir(p), 0o755, 0)
		files = append(files, entry{path: p, typ: tar.TypeSymlink, mode: 0o777, link: "/bin/busybox"})
	}
	if !seen["bin/sh"] {
		return nil, fmt.Errorf("%s has no sh applet", busybox)
	}
	if variant != "" {
		files = append(files, entry{path: "etc/testbox-variant", typ: tar.TypeReg, mode: 0o644, data: []byte(variant + "\n")})
	}
	var all []entry
	for _, d := range dirs {
		all = append(all, d)
	}
	all = append(all, files...)
	return &imageSpec{
		ref:     ref,
		entries: all,
		user:    fmt.Sprintf("%d:%d", nonroot, nonroot),
		env:     []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/home/nonroot"},
		cmd:     []string{"/bin/sh"},
		workdir: "/",
	}, nil
}

func pauseSpec(ref, pauseBin string) (*imageSpec, error) {
	if pauseBin == "" {
		return nil, fmt.Errorf("--pause is required")
	}
	bin, err := os.ReadFile(pauseBin)
	if err != nil {
		return nil, err
	}
	return &imageSpec{
		ref:        ref,
		entries:    []entry{{path: "pause", typ: tar.TypeReg, mode: 0o755, data: bin}},
		user:       "65535:65535",
		entrypoint: []string{"/pause"},
		workdir:    "/",
	}, nil
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    map[string]string `json:"platform,omitempty"`
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func layerTar(entries []entry) ([]byte, error) {
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Typeflag: e.typ, Name: e.path, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: epoch, Format: tar.FormatPAX,
		}
		switch e.typ {
		case tar.TypeDir:
			h.Name += "/"
		case tar.TypeSymlink:
			h.Linkname = e.link
		case tar.TypeReg:
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeOCIArchive writes an OCI image layout as a tar (oci-layout, index.json,
// blobs/sha256/...) with one uncompressed layer; returns the manifest digest.
func writeOCIArchive(out string, s *imageSpec) (string, error) {
	layer, err := layerTar(s.entries)
	if err != nil {
		return "", err
	}
	layerDigest := sha(layer)
	cfg := map[string]any{
		"created":      epoch.Format(time.RFC3339),
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config": map[string]any{
			"User": s.user, "Env": s.env, "Entrypoint": s.entrypoint, "Cmd": s.cmd, "WorkingDir": s.workdir,
			"Labels": map[string]string{"org.opencontainers.image.source": "lifecycle-operator/hack/localcluster"},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
		"history": []map[string]any{{"created": epoch.Format(time.RFC3339),
			"created_by": "localcluster image", "comment": "single layer built without a registry"}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: sha(cfgJSON), Size: int64(len(cfgJSON))},
		"layers":        []descriptor{{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: layerDigest, Size: int64(len(layer))}},
	}
	manJSON, err := json.Marshal(manifest)
	if err != nil {
		return "", err
	}
	tag := s.ref[strings.LastIndex(s.ref, ":")+1:]
	index := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []descriptor{{
			MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: sha(manJSON), Size: int64(len(manJSON)),
			Annotations: map[string]string{"io.containerd.image.name": s.ref, "org.opencontainers.image.ref.name": tag},
			Platform:    map[string]string{"architecture": runtime.GOARCH, "os": "linux"},
		}},
	}
	idxJSON, err := json.Marshal(index)
	if err != nil {
		return "", err
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	blob := func(b []byte) string { return "blobs/sha256/" + strings.TrimPrefix(sha(b), "sha256:") }
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", idxJSON},
		{blob(cfgJSON), cfgJSON},
		{blob(manJSON), manJSON},
		{blob(layer), layer},
	} {
		if err := add(f.name, f.data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return sha(manJSON), os.Rename(tmp, out)
}
