package kube

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// protobufWire decides whether a Monitor lists and watches a kind as
// protobuf into client-go's Go types (then converts each object to the map a
// jqFilter reads) instead of JSON into unstructured maps. Protobuf costs the
// API server and the client a fraction of JSON, which is most of a large
// initial list's time.
//
// jq filters must see exactly the object the API server returns as JSON.
// That holds for the protobuf path when both hold:
//   - the kind is built in (registered in client-go's scheme): the API
//     server itself keeps such objects as its Go structs (decoded from
//     protobuf in etcd) and its JSON is the encoding of that struct, so no
//     field outside the struct and no nil/empty distinction protobuf loses
//     ever reaches the JSON either;
//   - the server is not newer than the compiled-in k8s.io/api: then every
//     field the server's struct has, client-go's struct has too (API fields
//     are never removed within a version), so decoding drops nothing.
//
// Anything else (custom resources, a newer server, a version that cannot be
// read) stays on JSON. TestProtobufWireMatchesJSON checks the equivalence.
type protobufWire struct {
	cfg        *rest.Config
	httpClient *http.Client
	versioner  discovery.ServerVersionInterface

	once   sync.Once
	usable bool // the server is not newer than the compiled-in API types

	mu      sync.Mutex
	clients map[schema.GroupVersion]rest.Interface
}

func newProtobufWire(cfg *rest.Config, httpClient *http.Client, versioner discovery.ServerVersionInterface) *protobufWire {
	return &protobufWire{cfg: cfg, httpClient: httpClient, versioner: versioner, clients: map[schema.GroupVersion]rest.Interface{}}
}

// client returns a protobuf REST client for res, or nil when res must stay
// on JSON.
func (p *protobufWire) client(res Resource) rest.Interface {
	if p == nil {
		return nil
	}
	gv := res.GVR.GroupVersion()
	if !scheme.Scheme.Recognizes(gv.WithKind(res.Kind)) || !scheme.Scheme.Recognizes(gv.WithKind(res.Kind+"List")) {
		return nil
	}
	p.once.Do(func() { p.usable = p.serverNotNewer() })
	if !p.usable {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rc, ok := p.clients[gv]; ok {
		return rc
	}
	rc := p.newClient(gv, scheme.Codecs.WithoutConversion())
	if rc != nil {
		p.clients[gv] = rc
	}
	return rc
}

// filteredClient is client(res) with every watched object passed through
// f before it is decoded (see wireFilter): a REST client of its own, sharing
// the HTTP client. Without f it is client(res).
func (p *protobufWire) filteredClient(res Resource, f *wireFilter) rest.Interface {
	if p.client(res) == nil || f == nil {
		return p.client(res)
	}
	return p.newClient(res.GVR.GroupVersion(), filteringCodecs{NegotiatedSerializer: scheme.Codecs.WithoutConversion(), filter: f})
}

func (p *protobufWire) newClient(gv schema.GroupVersion, codecs runtime.NegotiatedSerializer) rest.Interface {
	cfg := rest.CopyConfig(p.cfg)
	cfg.GroupVersion = &gv
	cfg.APIPath = "/apis"
	if gv.Group == "" {
		cfg.APIPath = "/api"
	}
	cfg.NegotiatedSerializer = codecs
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	rc, err := rest.RESTClientForConfigAndClient(cfg, p.httpClient)
	if err != nil {
		return nil // JSON still works
	}
	return rc
}

// filteringCodecs is client-go's codecs with the protobuf decoder behind a
// wireFilter.
type filteringCodecs struct {
	runtime.NegotiatedSerializer
	filter *wireFilter
}

func (c filteringCodecs) SupportedMediaTypes() []runtime.SerializerInfo {
	infos := slices.Clone(c.NegotiatedSerializer.SupportedMediaTypes())
	for i := range infos {
		if infos[i].MediaType == runtime.ContentTypeProtobuf {
			infos[i].Serializer = filteringDecoder{Serializer: infos[i].Serializer, filter: c.filter}
		}
	}
	return infos
}

type filteringDecoder struct {
	runtime.Serializer
	filter *wireFilter
}

func (d filteringDecoder) Decode(data []byte, gvk *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	return d.Serializer.Decode(d.filter.filter(data), gvk, into)
}

// serverNotNewer compares the API server's minor version with the one of the
// compiled-in API types.
func (p *protobufWire) serverNotNewer() bool {
	info, err := p.versioner.ServerVersion()
	if err != nil || info.Major != "1" {
		return false
	}
	server, ok := leadingInt(info.Minor)
	if !ok {
		return false
	}
	return server <= apiTypesMinor
}

// apiTypesMinor is N of the k8s.io/api module v0.N.x in go.mod, whose Go
// types serve Kubernetes 1.N. TestAPITypesMinorMatchesGoMod keeps it in step
// with go.mod (a stale value that is too low only costs speed).
const apiTypesMinor = 37

// leadingInt parses the digits s starts with ("37+" is 37).
func leadingInt(s string) (int, bool) {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	return n, err == nil
}

// protobufListWatch lists and watches res through rc (see protobufWire);
// objects arrive as client-go Go types.
func protobufListWatch(rc rest.Interface, res Resource, ns string, tweak func(*metav1.ListOptions), note func(error)) *cache.ListWatch {
	request := func(o metav1.ListOptions) *rest.Request {
		tweak(&o)
		return rc.Get().NamespaceIfScoped(ns, res.Namespaced && ns != "").Resource(res.GVR.Resource).
			VersionedParams(&o, scheme.ParameterCodec)
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			l, err := request(o).Do(ctx).Get()
			note(err)
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.Watch = true
			w, err := request(o).Watch(ctx)
			note(err)
			return w, err
		},
	}
}

// asUnstructured returns obj (from a watch or list, possibly a tombstone) as
// the unstructured object jq filters read: a typed object from the protobuf
// path is converted, with apiVersion and kind set as the API server's JSON
// has them. Of a typed object only what p says the jqFilter reads is
// converted (p may be nil); normalized reports that the pruner did it, which
// leaves integers as int (see jqInput).
func asUnstructured(obj any, gvk schema.GroupVersionKind, p *pruner) (u *unstructured.Unstructured, normalized bool, err error) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		return o, false, nil
	case runtime.Object:
		m, pruned, err := p.toMap(o)
		if !pruned {
			m, err = typedToMap(o)
		}
		if err != nil {
			return nil, false, fmt.Errorf("converting %T: %w", o, err)
		}
		u := &unstructured.Unstructured{Object: m}
		if pruned {
			p.setTypeMeta(u, gvk)
		} else {
			u.SetGroupVersionKind(gvk)
		}
		return u, pruned, nil
	default:
		return nil, false, fmt.Errorf("unexpected object type %T", obj)
	}
}

// typedToMap converts a typed object (decoded by this Monitor, so it may
// change it) with runtime.DefaultUnstructuredConverter, except for each
// managedFields entry's fieldsV1: that is raw JSON the converter encodes and
// decodes again through reflection, about two thirds of the conversion of a
// small object, so it is decoded here directly, with the same number types
// (int64, float64) as the JSON path.
func typedToMap(o runtime.Object) (map[string]any, error) {
	a, err := meta.Accessor(o)
	if err != nil {
		return runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	}
	mf := a.GetManagedFields()
	raw := make([][]byte, len(mf))
	if len(mf) > 0 {
		stripped := slices.Clone(mf)
		for i := range stripped {
			if b := stripped[i].FieldsV1.GetRawBytes(); b != nil {
				raw[i] = b
				stripped[i].FieldsV1 = nil
			}
		}
		a.SetManagedFields(stripped)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil || len(mf) == 0 {
		return m, err
	}
	md, _ := m["metadata"].(map[string]any)
	entries, _ := md["managedFields"].([]any)
	if len(entries) != len(raw) {
		return nil, fmt.Errorf("managedFields: %d entries converted, %d expected", len(entries), len(raw))
	}
	for i, r := range raw {
		if r == nil {
			continue
		}
		entry, ok := entries[i].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("managedFields[%d]: converted to %T", i, entries[i])
		}
		var v any
		if err := utiljson.Unmarshal(r, &v); err != nil {
			return nil, fmt.Errorf("managedFields[%d].fieldsV1: %w", i, err)
		}
		entry["fieldsV1"] = v
	}
	return m, nil
}
