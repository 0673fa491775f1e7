package rules

// onnxRules covers ONNX models. Ids in the MG5xx range.
var onnxRules = []Rule{}
