package onnx

import "github.com/modelgate/modelgate/core/pathcheck"

// DomainKind says how much trust an operator domain needs.
type DomainKind int

// Domain kinds.
const (
	// DomainStandard is the ONNX standard and the operators built into
	// ONNX Runtime itself.
	DomainStandard DomainKind = iota
	// DomainKnownVendor is a well-known extension library (onnxruntime
	// extensions, PyTorch ATen fallback, OpenVINO, TensorRT, mmdeploy).
	DomainKnownVendor
	// DomainCustom is anything else: a native library nobody vouches for.
	DomainCustom
)

// standardDomains are implemented by the ONNX reference and by ONNX
// Runtime's default build.
var standardDomains = map[string]bool{
	"": true, "ai.onnx": true, "ai.onnx.ml": true, "ai.onnx.training": true,
	"ai.onnx.preview.training": true, "ai.onnx.preview": true,
	"com.microsoft": true, "com.microsoft.nchwc": true, "com.microsoft.experimental": true,
	"com.microsoft.dml": true, "com.ms.internal.nhwc": true,
}

// vendorDomains are extension libraries with their own distribution.
var vendorDomains = map[string]string{
	"ai.onnx.contrib":          "onnxruntime-extensions",
	"org.pytorch.aten":         "PyTorch ATen fallback",
	"org.pytorch._caffe2":      "PyTorch Caffe2 fallback",
	"org.openvinotoolkit":      "OpenVINO",
	"trt.plugins":              "TensorRT plugins",
	"mmdeploy":                 "mmdeploy",
	"com.microsoft.extensions": "onnxruntime-extensions",
}

// ClassifyDomain says which kind an operator domain is and, for known
// vendors, which library implements it.
func ClassifyDomain(d string) (DomainKind, string) {
	if standardDomains[d] {
		return DomainStandard, ""
	}
	if v, ok := vendorDomains[d]; ok {
		return DomainKnownVendor, v
	}
	return DomainCustom, ""
}

// Escapes returns why an external data location leaves the model's
// directory ("" if it stays inside): absolute POSIX, Windows drive or UNC
// paths and any ".." component, with either separator.
func Escapes(loc string) string { return pathcheck.Escapes(loc) }
