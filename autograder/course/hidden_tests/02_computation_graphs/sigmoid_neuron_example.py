from backprop_lib.kit.notebook import agrees
from backprop_lib.kit.worked_examples import neuron_by_gates

h_got = neuron_by_gates((1.5, -0.5, 0.25), (0.8, -1.2))
assert agrees(h_reference, "gradients", h_got), "the gates give wrong gradients on a hidden sigmoid neuron"
