// Command vcsim is evckit's test launcher over govmomi's vCenter simulator library (Debian ships the
// library, not the vcsim command). It serves a real vSphere SOAP API on 127.0.0.1 and can load an
// estate from an evckit snapshot (format v1), so that tests can round-trip
// snapshot -> simulator -> `evckit collect` -> snapshot.
//
// What it adds to the stock simulator:
//   - -snapshot FILE [-vcenter NAME]: datacenter, clusters (summary.currentEVCModeKey), hosts (CPU data,
//     featureCapability, maxEVCModeKey, product, connection and maintenance state), VMs (hardware
//     version, power state, host, featureRequirement, minRequiredEVCModeKey, featureMask for per-VM
//     EVC, template) and ServiceInstance capability.supportedEVCMode;
//   - RetrievePropertiesEx honours RetrieveOptions.maxObjects and pages with ContinueRetrievePropertiesEx
//     (vcsim 0.24 ignores maxObjects);
//   - -method-log FILE: one line per SOAP call ("Method ThisType"), written as it arrives;
//   - -delay METHOD=MS, -drop METHOD=N (connection closed unanswered), -deny-retrieve (NoPermission
//     on property retrieval), -user/-pass;
//   - a recovered panic becomes a SOAP fault (an empty FetchResponse for vcsim's Fetch of an unset
//     property, which otherwise drops the connection) instead of a dropped connection.
//
// It prints EVCKIT_VCSIM_URL=https://user:pass@127.0.0.1:PORT/sdk and EVCKIT_VCSIM_CA=FILE (the
// CA of its throw-away certificate) once it listens, then READY. SIGTERM, SIGINT or (with -stdinexit) EOF on
// stdin stop it at once, without waiting for requests in flight, and remove its temporary files.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// --- snapshot format (the subset the launcher loads) ---------------------------------------------

type kv struct {
	Key         string          `json:"key"`
	FeatureName string          `json:"featureName"`
	Value       json.RawMessage `json:"value"`
}

func (e kv) value() string {
	var s string
	if json.Unmarshal(e.Value, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(e.Value))
}

func (e kv) name() string {
	if e.FeatureName != "" {
		return e.FeatureName
	}
	return e.Key
}

type cpuID struct {
	Level  json.RawMessage `json:"level"`
	Vendor *string         `json:"vendor"`
	Eax    *string         `json:"eax"`
	Ebx    *string         `json:"ebx"`
	Ecx    *string         `json:"ecx"`
	Edx    *string         `json:"edx"`
}

type evcMode struct {
	Key                   string   `json:"key"`
	Label                 string   `json:"label"`
	Summary               string   `json:"summary"`
	Vendor                string   `json:"vendor"`
	VendorTier            int32    `json:"vendorTier"`
	Track                 []string `json:"track"`
	FeatureCapability     []kv     `json:"featureCapability"`
	FeatureMask           []kv     `json:"featureMask"`
	FeatureRequirement    []kv     `json:"featureRequirement"`
	GuaranteedCPUFeatures []cpuID  `json:"guaranteedCPUFeatures"`
}

type clusterDef struct {
	Name            string  `json:"name"`
	EvcMode         *string `json:"evc_mode"`
	EvcGraphicsMode *string `json:"evc_graphics_mode"`
}

type hostCPU struct {
	CpuFeature              []cpuID `json:"cpu_feature"`
	FeatureCapability       []kv    `json:"feature_capability"`
	MaskedFeatureCapability []kv    `json:"masked_feature_capability"`
	MaxEvcMode              string  `json:"max_evc_mode"`
	Model                   string  `json:"model"`
	Vendor                  string  `json:"vendor"`
	CpuidFile               string  `json:"cpuid_file"`
	CpuidText               string  `json:"cpuid_text"`
}

type hostDef struct {
	Name            string  `json:"name"`
	Cluster         *string `json:"cluster"`
	EsxiVersion     string  `json:"esxi_version"`
	Build           string  `json:"build"`
	ConnectionState string  `json:"connection_state"`
	Maintenance     bool    `json:"maintenance"`
	MaxEvcMode      *string `json:"max_evc_mode"`
	CurrentEvcMode  *string `json:"current_evc_mode"`
	Cpu             hostCPU `json:"cpu"`
}

type vmDef struct {
	Name               string  `json:"name"`
	Host               *string `json:"host"`
	Cluster            *string `json:"cluster"`
	PowerState         string  `json:"power_state"`
	HardwareVersion    string  `json:"hardware_version"`
	GuestID            string  `json:"guest_id"`
	Template           bool    `json:"template"`
	FeatureRequirement []kv    `json:"feature_requirement"`
	MinRequiredEvcMode *string `json:"min_required_evc_mode"`
	PerVMEvc           *string `json:"per_vm_evc"`
	FeatureMask        []kv    `json:"feature_mask"`
}

type vcenterDef struct {
	Name     string       `json:"name"`
	Version  string       `json:"version"`
	Build    string       `json:"build"`
	EvcModes []evcMode    `json:"evc_modes"`
	Clusters []clusterDef `json:"clusters"`
	Hosts    []hostDef    `json:"hosts"`
	VMs      []vmDef      `json:"vms"`
}

type snapshotDef struct {
	Version  int          `json:"evckit_snapshot"`
	Vcenters []vcenterDef `json:"vcenters"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func readSnapshot(path, name string) (*vcenterDef, error) {
	data, err := ioutil.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var snap snapshotDef
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if snap.Version != 1 {
		return nil, fmt.Errorf("%s: evckit_snapshot %d is not 1", path, snap.Version)
	}
	for i := range snap.Vcenters {
		if name == "" || snap.Vcenters[i].Name == name {
			return &snap.Vcenters[i], nil
		}
	}
	return nil, fmt.Errorf("%s: no vCenter named %q", path, name)
}

func features(entries []kv) []types.HostFeatureCapability {
	var out []types.HostFeatureCapability
	for _, e := range entries {
		out = append(out, types.HostFeatureCapability{Key: e.Key, FeatureName: e.name(), Value: e.value()})
	}
	return out
}

func masks(entries []kv) []types.HostFeatureMask {
	var out []types.HostFeatureMask
	for _, e := range entries {
		out = append(out, types.HostFeatureMask{Key: e.Key, FeatureName: e.name(), Value: e.value()})
	}
	return out
}

func requirements(entries []kv) []types.VirtualMachineFeatureRequirement {
	var out []types.VirtualMachineFeatureRequirement
	for _, e := range entries {
		out = append(out, types.VirtualMachineFeatureRequirement{Key: e.Key, FeatureName: e.name(), Value: e.value()})
	}
	return out
}

func cpuIDs(entries []cpuID) ([]types.HostCpuIdInfo, error) {
	var out []types.HostCpuIdInfo
	for i, e := range entries {
		text := strings.Trim(string(e.Level), `"`)
		level, err := strconv.ParseInt(text, 0, 64)
		if err != nil || level < -(1<<31) || level > 0xFFFFFFFF {
			return nil, fmt.Errorf("cpu_feature[%d]: level %s is not a 32-bit integer", i, e.Level)
		}
		out = append(out, types.HostCpuIdInfo{
			Level: int32(uint32(level)), Vendor: str(e.Vendor),
			Eax: str(e.Eax), Ebx: str(e.Ebx), Ecx: str(e.Ecx), Edx: str(e.Edx),
		})
	}
	return out, nil
}

// cpuVendor is what hardware.cpuPkg[].vendor says ("intel", "amd"): given, or read from the data.
func cpuVendor(h *hostDef) string {
	if h.Cpu.Vendor != "" {
		return strings.ToLower(h.Cpu.Vendor)
	}
	for _, e := range h.Cpu.FeatureCapability {
		switch strings.ToLower(e.Key) {
		case "cpuid.intel":
			if e.value() == "1" {
				return "intel"
			}
		case "cpuid.amd":
			if e.value() == "1" {
				return "amd"
			}
		}
	}
	text := strings.ToLower(h.Cpu.Model + " " + str(h.MaxEvcMode) + " " + h.Cpu.MaxEvcMode)
	if strings.Contains(text, "amd") || strings.Contains(text, "epyc") {
		return "amd"
	}
	return "intel"
}

var powerStates = map[string]types.VirtualMachinePowerState{
	"poweredon": types.VirtualMachinePowerStatePoweredOn, "on": types.VirtualMachinePowerStatePoweredOn,
	"poweredoff": types.VirtualMachinePowerStatePoweredOff, "off": types.VirtualMachinePowerStatePoweredOff,
	"suspended": types.VirtualMachinePowerStateSuspended,
}

// --- building the inventory ----------------------------------------------------------------------

type builder struct {
	ctx     context.Context
	c       *vim25.Client
	folders *object.DatacenterFolders
	dsDir   string
	modes   map[string]evcMode
}

func (b *builder) task(t *object.Task, err error) (types.ManagedObjectReference, error) {
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	info, err := t.WaitForResult(b.ctx, nil)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	return info.Result.(types.ManagedObjectReference), nil
}

func (b *builder) load(vc *vcenterDef) error {
	ctx := b.ctx
	si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	b.modes = map[string]evcMode{}
	for _, m := range vc.EvcModes {
		guaranteed, err := cpuIDs(m.GuaranteedCPUFeatures)
		if err != nil {
			return fmt.Errorf("evc_modes %s: %v", m.Key, err)
		}
		mode := types.EVCMode{
			ElementDescription:    types.ElementDescription{Key: m.Key, Description: types.Description{Label: m.Label, Summary: m.Summary}},
			GuaranteedCPUFeatures: guaranteed,
			FeatureCapability:     features(m.FeatureCapability),
			FeatureMask:           masks(m.FeatureMask),
			FeatureRequirement:    requirements(m.FeatureRequirement),
			Vendor:                m.Vendor,
			Track:                 m.Track,
			VendorTier:            m.VendorTier,
		}
		si.Capability.SupportedEVCMode = append(si.Capability.SupportedEVCMode, mode)
		b.modes[strings.ToLower(m.Key)] = m
	}

	clusters := map[string]*object.ClusterComputeResource{}
	clusterMode := map[string]string{}
	for _, cd := range vc.Clusters {
		cl, err := b.folders.HostFolder.CreateCluster(ctx, cd.Name, types.ClusterConfigSpecEx{})
		if err != nil {
			return fmt.Errorf("cluster %s: %v", cd.Name, err)
		}
		clusters[cd.Name] = cl
		clusterMode[cd.Name] = str(cd.EvcMode)
		obj := simulator.Map.Get(cl.Reference()).(*simulator.ClusterComputeResource)
		summary := obj.Summary.(*types.ClusterComputeResourceSummary)
		summary.CurrentEVCModeKey = str(cd.EvcMode)
		summary.CurrentEVCGraphicsModeKey = str(cd.EvcGraphicsMode)
	}

	hosts := map[string]*object.HostSystem{}
	firstHost := map[string]*object.HostSystem{}
	for i := range vc.Hosts {
		hd := &vc.Hosts[i]
		if hd.Cpu.CpuidFile != "" || hd.Cpu.CpuidText != "" {
			return fmt.Errorf("host %s: cpuid_file/cpuid_text cannot be served; give cpu_feature or feature_capability", hd.Name)
		}
		spec := types.HostConnectSpec{HostName: hd.Name}
		var ref types.ManagedObjectReference
		var err error
		if hd.Cluster != nil {
			cl, ok := clusters[*hd.Cluster]
			if !ok {
				return fmt.Errorf("host %s: no cluster %q", hd.Name, *hd.Cluster)
			}
			ref, err = b.task(cl.AddHost(ctx, spec, true, nil, nil))
		} else {
			ref, err = b.task(b.folders.HostFolder.AddStandaloneHost(ctx, spec, true, nil, nil))
		}
		if err != nil {
			return fmt.Errorf("host %s: %v", hd.Name, err)
		}
		h := object.NewHostSystem(b.c, ref)
		hosts[hd.Name] = h
		if hd.Cluster != nil && firstHost[*hd.Cluster] == nil {
			firstHost[*hd.Cluster] = h
		}
		if err := b.setHost(ref, hd, clusterMode[str(hd.Cluster)]); err != nil {
			return fmt.Errorf("host %s: %v", hd.Name, err)
		}
		dss, err := h.ConfigManager().DatastoreSystem(ctx)
		if err == nil {
			_, err = dss.CreateLocalDatastore(ctx, "LocalDS_0", b.dsDir)
		}
		if err != nil {
			return fmt.Errorf("host %s: datastore: %v", hd.Name, err)
		}
	}

	pools := map[string]*object.ResourcePool{}
	for i := range vc.VMs {
		vd := &vc.VMs[i]
		var host *object.HostSystem
		switch {
		case vd.Host != nil:
			host = hosts[*vd.Host]
		case vd.Cluster != nil:
			host = firstHost[*vd.Cluster] // vCenter always places a registered VM on a host
		}
		if host == nil {
			return fmt.Errorf("vm %s: no host to place it on", vd.Name)
		}
		pool := pools[host.Reference().Value]
		if pool == nil {
			p, err := host.ResourcePool(ctx)
			if err != nil {
				return fmt.Errorf("vm %s: %v", vd.Name, err)
			}
			pool, pools[host.Reference().Value] = p, p
		}
		guest := vd.GuestID
		if guest == "" {
			guest = string(types.VirtualMachineGuestOsIdentifierOtherGuest)
		}
		spec := types.VirtualMachineConfigSpec{
			Name: vd.Name, GuestId: guest, Version: vd.HardwareVersion,
			Files: &types.VirtualMachineFileInfo{VmPathName: "[LocalDS_0]"},
		}
		ref, err := b.task(b.folders.VmFolder.CreateVM(ctx, spec, pool, host))
		if err != nil {
			return fmt.Errorf("vm %s: %v", vd.Name, err)
		}
		if err := b.setVM(ref, vd); err != nil {
			return fmt.Errorf("vm %s: %v", vd.Name, err)
		}
	}
	return nil
}

func (b *builder) setHost(ref types.ManagedObjectReference, hd *hostDef, clusterEvc string) error {
	hs := simulator.Map.Get(ref).(*simulator.HostSystem)
	cpu, err := cpuIDs(hd.Cpu.CpuFeature)
	if err != nil {
		return err
	}
	vendor := cpuVendor(hd)
	// The simulator's templates share slices between hosts: copy before changing anything.
	hw := *hs.Hardware
	hw.CpuFeature = cpu
	pkgs := make([]types.HostCpuPackage, len(hw.CpuPkg))
	copy(pkgs, hw.CpuPkg)
	for i := range pkgs {
		pkgs[i].CpuFeature = cpu
		pkgs[i].Vendor = vendor
		pkgs[i].Description = hd.Cpu.Model
	}
	hw.CpuPkg = pkgs
	hs.Hardware = &hw
	summaryHw := *hs.Summary.Hardware
	summaryHw.CpuModel = hd.Cpu.Model
	hs.Summary.Hardware = &summaryHw

	hs.Config.FeatureCapability = features(hd.Cpu.FeatureCapability)
	hs.Config.MaskedFeatureCapability = features(hd.Cpu.MaskedFeatureCapability)
	hs.Summary.MaxEVCModeKey = str(hd.MaxEvcMode)
	if hs.Summary.MaxEVCModeKey == "" {
		hs.Summary.MaxEVCModeKey = hd.Cpu.MaxEvcMode
	}
	hs.Summary.CurrentEVCModeKey = clusterEvc
	if hd.CurrentEvcMode != nil {
		hs.Summary.CurrentEVCModeKey = *hd.CurrentEvcMode
	}

	product := *hs.Summary.Config.Product
	product.Version, product.Build = hd.EsxiVersion, hd.Build
	product.FullName = strings.TrimSpace(fmt.Sprintf("VMware ESXi %s build-%s", hd.EsxiVersion, hd.Build))
	hs.Summary.Config.Product = &product
	hs.Config.Product = product

	switch hd.ConnectionState {
	case "", "connected":
		hs.Runtime.ConnectionState = types.HostSystemConnectionStateConnected
	case "disconnected":
		hs.Runtime.ConnectionState = types.HostSystemConnectionStateDisconnected
	case "notResponding":
		hs.Runtime.ConnectionState = types.HostSystemConnectionStateNotResponding
	default:
		return fmt.Errorf("connection_state %q", hd.ConnectionState)
	}
	hs.Runtime.InMaintenanceMode = hd.Maintenance
	return nil
}

func (b *builder) setVM(ref types.ManagedObjectReference, vd *vmDef) error {
	vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	state, ok := powerStates[strings.ToLower(vd.PowerState)]
	if !ok {
		return fmt.Errorf("power_state %q", vd.PowerState)
	}
	vm.Config.Version = vd.HardwareVersion
	vm.Config.GuestId = vd.GuestID // unset when the snapshot has none
	vm.Summary.Config.GuestId = vd.GuestID
	vm.Config.Template = vd.Template
	vm.Runtime.PowerState = state
	vm.Runtime.FeatureRequirement = requirements(vd.FeatureRequirement)
	vm.Runtime.MinRequiredEVCModeKey = str(vd.MinRequiredEvcMode)
	switch {
	case len(vd.FeatureMask) > 0:
		vm.Runtime.FeatureMask = masks(vd.FeatureMask)
	case vd.PerVMEvc != nil:
		// Per-VM EVC (ApplyEvcModeVM_Task) applies the mode's featureMask to the VM.
		mode, ok := b.modes[strings.ToLower(*vd.PerVMEvc)]
		if !ok || len(mode.FeatureMask) == 0 {
			return fmt.Errorf("per_vm_evc %q needs that mode, with its featureMask, in the vCenter's evc_modes", *vd.PerVMEvc)
		}
		vm.Runtime.FeatureMask = masks(mode.FeatureMask)
	}
	vm.Summary.Runtime = vm.Runtime
	if vm.Summary.Config.Template != vd.Template {
		vm.Summary.Config.Template = vd.Template
	}
	return nil
}

// --- paging PropertyCollector --------------------------------------------------------------------

var (
	pagesMu    sync.Mutex
	pages      = map[string]pending{}
	pageSeq    int
	denyRead   bool
	denyReason = "System.Read"
)

type pending struct {
	objects []types.ObjectContent
	size    int
}

// pagingCollector honours RetrieveOptions.maxObjects, as vCenter does.
type pagingCollector struct {
	simulator.PropertyCollector
}

func nextPage(objects []types.ObjectContent, size int) types.RetrieveResult {
	if size <= 0 || len(objects) <= size {
		return types.RetrieveResult{Objects: objects}
	}
	pagesMu.Lock()
	defer pagesMu.Unlock()
	pageSeq++
	token := strconv.Itoa(pageSeq)
	pages[token] = pending{objects[size:], size}
	return types.RetrieveResult{Objects: objects[:size], Token: token}
}

func (pc *pagingCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	if denyRead {
		this := vim25.ServiceInstance
		if len(r.SpecSet) > 0 && len(r.SpecSet[0].ObjectSet) > 0 {
			this = r.SpecSet[0].ObjectSet[0].Obj
		}
		return &methods.RetrievePropertiesExBody{Fault_: simulator.Fault("Permission to perform this operation was denied.",
			&types.NoPermission{Object: this, PrivilegeId: denyReason})}
	}
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	body, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || body.Res == nil || body.Res.Returnval == nil {
		return res
	}
	page := nextPage(body.Res.Returnval.Objects, int(r.Options.MaxObjects))
	body.Res.Returnval = &page
	return body
}

func (pc *pagingCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	pagesMu.Lock()
	p, ok := pages[r.Token]
	delete(pages, r.Token)
	pagesMu.Unlock()
	if !ok {
		return &methods.ContinueRetrievePropertiesExBody{Fault_: simulator.Fault("invalid token",
			&types.InvalidArgument{InvalidProperty: "token"})}
	}
	return &methods.ContinueRetrievePropertiesExBody{Res: &types.ContinueRetrievePropertiesExResponse{
		Returnval: nextPage(p.objects, p.size)}}
}

func (pc *pagingCollector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	pagesMu.Lock()
	delete(pages, r.Token)
	pagesMu.Unlock()
	return &methods.CancelRetrievePropertiesExBody{Res: &types.CancelRetrievePropertiesExResponse{}}
}

// --- HTTP layer: method log and panic recovery ---------------------------------------------------

type methodLog struct {
	mu sync.Mutex
	f  *os.File
}

func (l *methodLog) add(method, this string) {
	if l == nil || l.f == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, "%s %s\n", method, this)
}

// soapMethod reads the method name and the type of its _this argument from a SOAP request.
func soapMethod(body []byte) (string, string) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody, method, this := false, "", ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return method, this
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case !inBody && start.Name.Local == "Body":
			inBody = true
		case inBody && method == "":
			method = start.Name.Local
		case method != "" && start.Name.Local == "_this":
			for _, a := range start.Attr {
				if a.Name.Local == "type" {
					this = a.Value
				}
			}
			return method, this
		}
	}
}

const envelope = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>`

func escape(s string) string {
	var buf bytes.Buffer
	_ = xml.EscapeText(&buf, []byte(s))
	return buf.String()
}

func wrap(next http.Handler, mlog *methodLog) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/sdk") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := ioutil.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		method, this := soapMethod(body)
		mlog.add(method, this)
		if drops.take(method) {
			// A connection lost mid-call: close it without an answer.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
		}
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			log.Printf("recovered from a panic in %s: %v", method, p)
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			if method == "Fetch" {
				// vcsim panics on Fetch of an unset property; vCenter answers "unset".
				w.WriteHeader(http.StatusOK)
				fmt.Fprintf(w, envelope, `<FetchResponse xmlns="urn:vim25"></FetchResponse>`)
				return
			}
			msg := escape(fmt.Sprintf("simulator error in %s: %v", method, p))
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, envelope, `<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>`+msg+
				`</faultstring><detail><SystemErrorFault xmlns="urn:vim25" xsi:type="SystemError"><reason>`+msg+
				`</reason></SystemErrorFault></detail></soapenv:Fault>`)
		}()
		next.ServeHTTP(w, r)
	})
}

// --- TLS ---------------------------------------------------------------------------------------

// newCertificate makes a throw-away CA and a server certificate it signs for 127.0.0.1, ::1 and
// localhost (the library's built-in test certificate has a key too weak for OpenSSL 3 to verify).
// It returns the server's key pair and the CA certificate in PEM.
func newCertificate() (tls.Certificate, []byte, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "evckit vcsim test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, DNSNames: []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pair := tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}
	return pair, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// counts is a METHOD=N flag: delays in milliseconds, or how many calls to drop.
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) String() string { return fmt.Sprint(c.n) }

func (c *counts) Set(v string) error {
	parts := strings.SplitN(v, "=", 2)
	if len(parts) != 2 {
		return fmt.Errorf("want METHOD=N, got %q", v)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return err
	}
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[parts[0]] = n
	return nil
}

// take consumes one drop of this method, if any is left.
func (c *counts) take(method string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[method] > 0 {
		c.n[method]--
		return true
	}
	return false
}

var drops = &counts{}

// --- main ----------------------------------------------------------------------------------------

func main() {
	listen := flag.String("l", "127.0.0.1:0", "listen address (port 0: a free port)")
	snapshot := flag.String("snapshot", "", "evckit snapshot (v1) to serve; without it, vcsim's default inventory")
	vcName := flag.String("vcenter", "", "which vCenter of the snapshot (default: the first)")
	user := flag.String("user", "", "accept only this user name (default: any non-empty credentials)")
	pass := flag.String("pass", "", "accept only this password (with -user)")
	apiVersion := flag.String("api-version", "8.0.3.0", "API version served (four parts: 7.0 makes pyVmomi fall back to 6.0)")
	methodLogPath := flag.String("method-log", "", "append one line per SOAP call to this file")
	stdinExit := flag.Bool("stdinexit", false, "exit when stdin is closed")
	flag.BoolVar(&denyRead, "deny-retrieve", false, "answer RetrievePropertiesEx with NoPermission")
	methodDelay := &counts{}
	flag.Var(methodDelay, "delay", "METHOD=MS: delay every call of METHOD (repeatable)")
	flag.Var(drops, "drop", "METHOD=N: close the connection of the first N calls of METHOD, unanswered (repeatable)")
	flag.Parse()
	log.SetPrefix("vcsim: ")
	log.SetFlags(0)

	var vc *vcenterDef
	if *snapshot != "" {
		var err error
		if vc, err = readSnapshot(*snapshot, *vcName); err != nil {
			log.Fatal(err)
		}
	}

	model := simulator.VPX()
	model.ServiceContent.About.ApiVersion = *apiVersion
	if vc != nil {
		model.Datacenter, model.Host, model.Cluster, model.ClusterHost = 1, 0, 0, 0
		model.Machine, model.Portgroup, model.Datastore = 0, 0, 0
		model.ServiceContent.About.Version = vc.Version
		model.ServiceContent.About.Build = vc.Build
		model.ServiceContent.About.FullName = strings.TrimSpace("VMware vCenter Server " + vc.Version)
	}
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	dsDir, err := ioutil.TempDir("", "evckit-vcsim-")
	if err != nil {
		log.Fatal(err)
	}
	var cleanupOnce sync.Once
	cleanup := func() {
		cleanupOnce.Do(func() {
			model.Remove()
			_ = os.RemoveAll(dsDir)
			_ = os.Remove(dsDir + ".ca.pem")
		})
	}
	fatal := func(err error) {
		cleanup()
		log.Fatal(err)
	}

	ctx := context.Background()
	if vc != nil {
		c, err := vim25.NewClient(ctx, model.Service) // in process, no HTTP
		if err != nil {
			fatal(err)
		}
		dc := object.NewDatacenter(c, simulator.Map.Any("Datacenter").Reference())
		folders, err := dc.Folders(ctx)
		if err != nil {
			fatal(err)
		}
		b := &builder{ctx: ctx, c: c, folders: folders, dsDir: dsDir}
		if err := b.load(vc); err != nil {
			fatal(fmt.Errorf("%s: %v", *snapshot, err))
		}
	}

	// Swap in the paging PropertyCollector (sessions get their own copy of this type).
	pcRef := model.ServiceContent.PropertyCollector
	pc := &pagingCollector{}
	pc.Self = pcRef
	simulator.Map.Put(pc)

	for k, v := range methodDelay.n {
		if model.DelayConfig.MethodDelay == nil {
			model.DelayConfig.MethodDelay = map[string]int{}
		}
		model.DelayConfig.MethodDelay[k] = v
	}

	u := &url.URL{Host: *listen}
	if *user != "" {
		u.User = url.UserPassword(*user, *pass)
	}
	model.Service.Listen = u
	pair, caPEM, err := newCertificate()
	if err != nil {
		fatal(err)
	}
	caFile := dsDir + ".ca.pem"
	if err := ioutil.WriteFile(caFile, caPEM, 0o644); err != nil {
		fatal(err)
	}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv := model.Service.NewServer()

	mlog := &methodLog{}
	if *methodLogPath != "" {
		f, err := os.OpenFile(*methodLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fatal(err)
		}
		mlog.f = f
	}
	// Nobody knows the port yet: replacing the handler cannot race with a request.
	srv.Config.Handler = wrap(srv.Config.Handler, mlog)

	stop := func() {
		cleanup()
		os.Exit(0)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		stop()
	}()
	if *stdinExit {
		go func() {
			_, _ = io.Copy(ioutil.Discard, os.Stdin)
			stop()
		}()
	}

	fmt.Printf("EVCKIT_VCSIM_URL=%s\nEVCKIT_VCSIM_CA=%s\nREADY\n", srv.URL, caFile)
	select {}
}
