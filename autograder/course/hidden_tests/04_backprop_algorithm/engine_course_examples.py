from backprop_lib.kit.notebook import agrees
from backprop_lib.kit.worked_examples import circuit_through_engine, neuron_through_engine

h_got = neuron_through_engine((1.5, -0.5, 0.25), (0.8, -1.2))
assert agrees(h_reference, "neuron", h_got), "the engine gives wrong gradients on a hidden sigmoid neuron"
h_got = circuit_through_engine((-2.0, 5.0, -1.0, 4.0), 3.0)
assert agrees(h_reference, "circuit", h_got), "the engine gives wrong gradients on a hidden circuit"
