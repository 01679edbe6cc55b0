# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. The general backprop algorithm
#
# **Learning goals.** After this notebook you can
#
# 1. explain why a backward pass must visit the nodes in *reverse topological order*;
# 2. implement the two pieces of the general algorithm in the library's graph engine: `topological_sort` and
#    `backward` (one sweep, gradients accumulated at forks, reset on every call);
# 3. use the engine on graphs you did not sweep by hand: vector values, a ResNet-style skip connection and
#    ResNeXt-style parallel branches, and explain with $I + J$ what a skip connection does to gradients
#    through depth (and what it does not do).

# %%
import numpy as np

import backprop_lib
from backprop_lib.graph import Node, apply, backward, maximum, topological_sort
from backprop_lib.kit.notebook import checked, setup, show
from backprop_lib.kit.worked_examples import (
    CIRCUIT,
    CIRCUIT_GRADIENTS,
    NEURON_GRADIENTS,
    SIGMOID_NEURON,
    circuit_through_engine,
    neuron_through_engine,
)

setup()  # autoreload (the files you save are used, no restart) and one-line messages for stubs

# %% [markdown]
# ## 4.1 From a hand-run sweep to an algorithm
#
# In notebooks 2 and 3 *you* chose the order of the gates. For any graph, the rule is:
#
# 1. **Order** the nodes so that every node comes after all of its parents (a *topological order*).
# 2. **Reset and seed.** `backward` resets every node's `grad` to zeros of its value's shape, then seeds the
#    root with ones: $\partial E / \partial E = 1$.
# 3. **Sweep.** It visits the nodes in reverse topological order. At each node that has a gate, it calls the
#    gate's backward with the node's gradient (the upstream gradient) and its cache, and **adds** each
#    gradient a parent receives with `parent.grad += g`. A node used twice receives the sum.
#
# That is the engine's one recipe: zeros first, then `+=` for every gradient, including the first one a node
# receives.
#
# **A note for PyTorch users.** PyTorch's `loss.backward()` also adds into `.grad`, but it never resets:
# gradients accumulate across `backward()` calls until you call `optimizer.zero_grad()`. This engine starts
# from zero at every call, so calling `backward` twice gives the same gradients, not doubled ones.
#
# Why reverse topological order? A node's gradient is the sum of what *all* of its consumers send it. Every
# consumer comes after the node in topological order, so the reverse sweep has visited all of them, and the
# node's gradient is complete, by the time it reaches the node. Visit a node too early and it passes on a
# partial gradient.
#
# The graph engine already runs forward passes. Here is the course's sigmoid neuron again, built with
# operator shorthand; it records each node's parents, gate and cache:

# %%
w0, x0 = Node(2.0, "w0"), Node(-1.0, "x0")
w1, x1 = Node(-3.0, "w1"), Node(-2.0, "x1")
w2 = Node(-3.0, "w2")
f = 1 / ((-1.0 * (w0 * x0 + w1 * x1 + w2)).exp() + 1)
f.label = "f"
print(f"f = {float(f.value):.2f}; its gate: {f.operation.name}; its parent: {f.parents[0].operation.name} gate")

# %% [markdown]
# ## 4.2 Topological order
#
# A depth-first walk from the output gives a topological order: put a node in the list only *after* all of
# its parents are in it. Questions to answer before you write it:
#
# - A node reached along two paths (a fork) must go in once. What do you need to remember while you walk?
# - A network of 2000 layers makes a graph thousands of nodes deep, deeper than Python's recursion limit
#   (about 1000 calls). A recursive walk crashes there; the checks run such a graph. How do you walk
#   depth-first with an explicit stack instead? When is a node on the stack ready to go into the list?
#
# **Exercise 12.** Write `topological_sort(root)` in `backprop_lib/graph.py`. It returns every node that
# `root` depends on, each once, parents before children, ending with `root`, without recursion. Stuck?
# `backprop_lib.hint("topological_sort")`.

# %%
order = topological_sort(f)
print(" -> ".join(node.label or node.operation.symbol for node in order))

# %%
backprop_lib.check("topological_sort")

# %% nbgrader={"grade": true, "grade_id": "topological_sort", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: topological_sort (autograded; do not edit)
result = checked("topological_sort")
assert result.passed, result.report()

# %% [markdown]
# ## 4.3 One backward sweep
#
# **Exercise 13.** Write `backward(root, grad=None)` in `backprop_lib/graph.py`, following the recipe of 4.1:
# reset every `grad` to zeros of its value's shape, seed the root with ones (or with `grad` when given), then
# in reverse topological order `parent.grad += g` for every gradient `g` that
# `node.operation.backward(node.grad, node.cache)` returns, one per parent in `node.parents`.
#
# Why zeros first and `+=` always, rather than storing the first gradient a node receives and adding later
# ones? A gate may hand out the *same array* to two parents (an add gate may return `dout` itself twice). If
# a node's `grad` *is* that array and a later `+=` changes it in place, the other parent's gradient changes
# too. Starting every `grad` as its own array of zeros rules that out. Stuck? `backprop_lib.hint("backward")`.
#
# Once it works, the whole of notebook 2 is one call, `backward(f)` (or `f.backward()`):

# %%
backward(f)
show(w0, x0, w1, x1, w2)

# %% [markdown]
# And notebook 3's circuit $2(xy + \max(z, w))$, gradients $(-8, 6, 2, 0)$:

# %%
x, y, z, w = Node(3.0, "x"), Node(-4.0, "y"), Node(2.0, "z"), Node(-1.0, "w")
circuit = 2 * (x * y + maximum(z, w))
backward(circuit)
show(x, y, z, w)

# %% [markdown]
# Two properties the engine must have:
#
# - **Forks accumulate.** In $g = t \cdot t + t$ the node $t$ is used three times; $\partial g/\partial t =
#   2t + 1 = 7$ at $t = 3$.
# - **Every call starts fresh.** `backward` resets all gradients to zeros before it sweeps, so a second call
#   gives the same gradients, not doubled ones (unlike PyTorch without `zero_grad()`).

# %%
t = Node(3.0, "t")
g = t * t + t
backward(g)
print(f"dg/dt = {float(t.grad):.0f} (expected 2t + 1 = 7)")
backward(g)
print(f"dg/dt = {float(t.grad):.0f} after a second backward (still 7)")

# %%
backprop_lib.check("backward")

# %% nbgrader={"grade": true, "grade_id": "backward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: backward (autograded; do not edit)
result = checked("backward")
assert result.passed, result.report()

# %% nbgrader={"grade": true, "grade_id": "engine_course_examples", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: the course's two examples through your engine (autograded; do not edit)
t_got = np.round(neuron_through_engine(**SIGMOID_NEURON), 2)  # f = 1 / (exp(-(w0 x0 + w1 x1 + w2)) + 1)
assert np.allclose(t_got, NEURON_GRADIENTS), f"neuron: df/d(w0, w1, w2, x0, x1) = {t_got}, not {NEURON_GRADIENTS}"
t_got = circuit_through_engine(**CIRCUIT)  # f = c * (x * y + maximum(z, w))
assert np.allclose(t_got, CIRCUIT_GRADIENTS), f"circuit: df/d(x, y, z, w) = {t_got}; the course has {CIRCUIT_GRADIENTS}"

# %% [markdown]
# ### Watch the algorithm: the graph viewer
#
# The viewer draws any graph built with the engine, forward values in one colour and gradients in another,
# and steps through the backward sweep one gate at a time, showing *local gradient × upstream gradient* at
# the current gate. Step through the sigmoid neuron and find $-0.53$, $-0.20$ and $0.20$; then pass it a
# graph of your own, e.g. `graph_viewer(g)`.

# %% tags=["illustration"]
from backprop_lib.kit.widgets import graph_viewer

graph_viewer(f)

# %% [markdown]
# ## 4.4 More general graphs
#
# Nothing in the algorithm is specific to scalars or to chains. Node values can be arrays (each gate's
# backward returns gradients of its inputs' shapes), and a graph can branch and merge anywhere. Two patterns
# from modern architectures show why the add gate matters so much.
#
# ### A ResNet-style skip connection
#
# A deep stack of layers multiplies local gradients: in $h_k = \sigma(a_k \odot h_{k-1})$ each layer
# contributes a factor $\sigma'(\cdot)\, a_k$, and $\sigma' \le 1/4$. After 20 layers the gradient reaching
# the first layer is tiny: it *vanishes*.
#
# A residual block adds its input back: $h_k = h_{k-1} + F_k(h_{k-1})$, here with
# $F_k(h) = \sigma(a_k \odot h)$. The add gate *distributes*: it hands the upstream gradient unchanged to the
# skip path and to the branch. So the block's Jacobian is
#
# $$\frac{\partial h_k}{\partial h_{k-1}} = I + J_k, \qquad J_k = \frac{\partial F_k}{\partial h_{k-1}}
# \ \text{(the branch's own Jacobian)},$$
#
# and the gradient at block $k$ is the upstream gradient times the product of the blocks' $(I + J)$ above it.
# Multiply that product out: one of its terms is $I \cdot I \cdots I$, an identity path from the output back
# to every layer, so small $J$s no longer make the gradient vanish. But nothing keeps it from *growing*: if
# the $J$s are large, every block multiplies the gradient by something larger than 1.
#
# Below, both networks are built with the engine (20 blocks of 8 units), and one backward pass gives the
# gradient norm $\lVert \partial E/\partial h_k \rVert$ at the input of every block.


# %% tags=["illustration"]
import matplotlib.pyplot as plt


def block(h, weight, residual):
    """One layer: sigmoid(weight * h), plus h itself when residual (the skip connection)."""
    out = apply("sigmoid", apply("multiply", h, weight))
    return apply("add", h, out) if residual else out


def gradient_norms(depth, residual, width=8, seed=0):
    """||dE/dh_k|| at the input of every block, for E = sum of the last block's outputs."""
    rng = np.random.default_rng(seed)
    h = Node(rng.normal(size=width), "x")
    inputs = []
    for _ in range(depth):
        inputs.append(h)
        h = block(h, Node(rng.normal(size=width)), residual)
    backward(h, np.ones(width))  # upstream gradient of E = sum(h)
    return [np.linalg.norm(node.grad) for node in inputs]


plain, residual = gradient_norms(20, residual=False), gradient_norms(20, residual=True)
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.semilogy(range(1, 21), plain, marker="o", label="plain: h = σ(a h)")
ax.semilogy(range(1, 21), residual, marker="s", label="residual: h = h + σ(a h)")
ax.set(xlabel="block k (1 = first)", ylabel="‖∂E/∂h‖ at its input", title="Gradient through 20 blocks")
ax.legend()
plt.show()
print(f"first block: plain {plain[0]:.1e}, residual {residual[0]:.1e}")

# %% [markdown]
# Here the plain stack's gradient falls by orders of magnitude towards the first block; the residual stack's
# does not, because the $I$ in every $I + J$ carries it. With small branches ($J$ small), the skip connection
# is what lets the first layers of a deep network keep learning.
#
# The same comparison with real layers, $h_l = \mathrm{relu}(h_{l-1} W_l + b_l)$ with and without the skip
# connection: move the depth and the scale of the initial weights. At the default (20 layers, weight scale 0.5)
# the plain network's gradient *vanishes* while the residual one's holds. Now add layers: every block's $I + J$
# enlarges the gradient a little, and at 50 layers even this small scale makes the residual network's gradient
# *explode*. Raise the scale towards He's $\sqrt 2 \approx 1.41$: the plain network's gradient holds steady,
# and fifty residual blocks multiply the gradient by about $10^{10}$. Skip connections are one tool, not a
# guarantee. What keeps deep residual networks trainable in practice is the combination with **initialisation
# and scaling** (e.g. a small scale on each branch, or its last layer started at zero), **normalisation** layers
# (batch or layer normalisation) inside the branches, and **gradient clipping** as a safety net. (The widget's
# networks use the linear layer and the ReLU, your exercises of notebooks 5 and 6: until you have written them
# it says which one is missing.)

# %% tags=["illustration"]
from backprop_lib.kit.widgets import depth_flow

depth_flow()

# %% [markdown]
# ### ResNeXt-style parallel branches
#
# A ResNeXt block splits its input into $C$ parallel branches, transforms each, and *aggregates* them with
# an add, together with the skip connection:
#
# $$\text{out} = x + \sum_{i=1}^{C} c_i\, \sigma(a_i\, x).$$
#
# In the backward pass the add gates hand the upstream gradient to every branch and to the skip path; $x$
# is used $C + 1$ times, so its gradient is the sum of $C + 1$ contributions:
# $\partial\,\text{out}/\partial x = 1 + \sum_i c_i\, a_i\, \sigma'(a_i x)$. The engine does this
# accumulation for you; check it against centered differences.

# %% tags=["illustration"]
rng = np.random.default_rng(1)
a_values, c_values = rng.normal(size=4), rng.normal(size=4)


def resnext_block(x):
    branches = [Node(c) * (Node(a) * x).sigmoid() for a, c in zip(a_values, c_values, strict=True)]
    out = x
    for branch in branches:
        out = out + branch  # aggregate by addition
    return out


x_in = Node(0.5, "x")
out = resnext_block(x_in)
backward(out)
h = 1e-6
numeric = (resnext_block(Node(0.5 + h)).value - resnext_block(Node(0.5 - h)).value) / (2 * h)
print(f"d out/dx: engine {float(x_in.grad):.6f}, centered differences {float(numeric):.6f}")
print(f"the skip path alone contributes 1; the {len(a_values)} branches add {float(x_in.grad) - 1:+.6f}")

# %% [markdown]
# ## Recap
#
# - **General backprop** = topological order + reset every `grad` to zeros and seed the root with ones + one
#   reverse sweep calling each gate's backward and adding with `parent.grad += g`.
# - Reverse topological order guarantees a node's gradient is complete (all consumers done) before the node
#   passes it on.
# - The engine works on any graph: arrays, forks, branches. Reset on every call makes `backward` safe to
#   call twice (PyTorch instead accumulates until `zero_grad()`).
# - **A residual block's Jacobian is $I + J$**: the identity path keeps gradients from vanishing with depth,
#   but large branches make them explode; initialisation and scaling, normalisation and clipping keep them in
#   range.
#
# **Next:** notebook 5 looks inside vector-valued gates: Jacobians, and the ReLU.
