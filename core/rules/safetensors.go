package rules

// safetensorsRules covers safetensors files. Ids in the MG7xx range.
var safetensorsRules = []Rule{}
