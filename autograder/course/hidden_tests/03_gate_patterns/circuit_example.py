from backprop_lib.kit.notebook import agrees
from backprop_lib.kit.worked_examples import circuit_by_gates

h_got = circuit_by_gates((-2.0, 5.0, -1.0, 4.0), 3.0)
assert agrees(h_reference, "df/d(x, y, z, w)", h_got), (
    "the gates give wrong gradients on a hidden circuit 3 (x y + max(z, w))"
)
