package rules

// torchscriptRules covers TorchScript archives. Ids in the MG8xx range.
var torchscriptRules = []Rule{}
