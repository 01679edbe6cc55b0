from backprop_lib.kit.notebook import checked

h_result = checked("network_gradient_check", seed=11)  # other points, another network
assert h_result.passed, h_result.report()
