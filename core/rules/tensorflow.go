package rules

// tensorflowRules covers TensorFlow SavedModel graphs. Ids in the MG4xx range.
var tensorflowRules = []Rule{}
