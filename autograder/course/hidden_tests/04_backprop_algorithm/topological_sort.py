from backprop_lib.graph import Node, topological_sort
from backprop_lib.kit.notebook import checked

h_result = checked("topological_sort", seed=431)
assert h_result.passed, h_result.report()
h_a, h_b = Node(0.5, "a"), Node(-1.5, "b")
h_shared = h_a * h_b  # used by three later nodes
h_left = (h_shared + h_a).exp()
h_right = h_shared * h_shared
h_root = (h_left + h_right + h_shared).sigmoid()
for _ in range(3000):  # a chain on top, deeper than Python's recursion limit
    h_root = h_root * 1.0001
h_order = topological_sort(h_root)
h_position = {id(node): i for i, node in enumerate(h_order)}
assert len(h_position) == len(h_order), "topological_sort lists a node more than once on a hidden graph with forks"
assert h_order[-1] is h_root, "topological_sort must end with the root"
h_stack, h_seen = [h_root], set()
while h_stack:
    h_node = h_stack.pop()
    if id(h_node) in h_seen:
        continue
    h_seen.add(id(h_node))
    assert id(h_node) in h_position, "topological_sort leaves out a node the root depends on (hidden graph)"
    for h_parent in h_node.parents:
        assert h_position[id(h_parent)] < h_position[id(h_node)], "topological_sort puts a node before its parent"
        h_stack.append(h_parent)
assert len(h_seen) == len(h_order), "topological_sort lists nodes the root does not depend on"
