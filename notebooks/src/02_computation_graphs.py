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
# # 2. Computation graphs and a detailed example
#
# **Learning goals.** After this notebook you can
#
# 1. draw a function as a computation graph of simple gates and run its forward pass;
# 2. run the backward pass by hand, gate by gate: at every gate, **local gradient × upstream gradient**;
# 3. write the backward function of each gate the example uses (seven exercises in `backprop_lib/gates.py`
#    and `backprop_lib/activations.py`);
# 4. collapse a chain of gates into one sigmoid gate, and derive its local gradient yourself.
#
# Every gate follows one contract, in every file of the library:
#
# ```python
# out, cache = <gate>_forward(inputs...)     # given: computes the value, saves what backward needs
# grads = <gate>_backward(dout, cache)       # your exercise: one gradient per input
# ```
#
# `dout` is the **upstream gradient** $\partial E / \partial \text{out}$, and backward returns a tuple with
# $\partial E / \partial \text{input} = \partial E / \partial \text{out} \cdot \partial \text{out} / \partial
# \text{input}$ for each input, each with that input's shape.
#
# **How each exercise goes.** The notebook runs the lecture's example with numbers; the formulas are yours to
# derive. For every gate, answer three questions on paper first:
#
# 1. **Local derivative.** What is $\partial\,\text{out} / \partial\,\text{input}$ for this gate alone?
# 2. **Upstream × local.** Multiply by `dout`. Does it give the number the lecture has on that wire?
# 3. **Shapes.** Does your expression work elementwise for arrays, and return each input's shape?
#
# Then write the result in the library file, save it, and run the check cell (the notebook reloads your file:
# no kernel restart needed). Stuck? `backprop_lib.hint("reciprocal_backward")` in a cell shows the next rung
# of a hint ladder each time you call it (a nudge first, the formula only last); in a terminal,
# `backprop-kit hint reciprocal_backward`.

# %%
import numpy as np

import backprop_lib
from backprop_lib.activations import sigmoid_backward
from backprop_lib.gates import (
    add_backward,
    add_constant_backward,
    exp_backward,
    multiply_backward,
    reciprocal_backward,
    scale_backward,
)
from backprop_lib.graph import Node, apply
from backprop_lib.kit.notebook import checked, setup, show
from backprop_lib.kit.worked_examples import NEURON_GRADIENTS, SIGMOID_NEURON, neuron_by_gates

setup()  # autoreload (the files you save are used, no restart) and one-line messages for stubs

# %% [markdown]
# ## 2.1 The function as a graph
#
# The example is a single neuron with two inputs and a sigmoid:
#
# $$f(w, x) = \frac{1}{1 + e^{-(w_0 x_0 + w_1 x_1 + w_2)}}$$
#
# at $w = (2, -3, -3)$ and $x = (-1, -2)$. Broken into gates, each doing one simple thing:
#
# | node | gate | value |
# |---|---|---|
# | $p_0 = w_0 x_0$ | multiply | $-2$ |
# | $p_1 = w_1 x_1$ | multiply | $6$ |
# | $a = p_0 + p_1$ | add | $4$ |
# | $s = a + w_2$ | add | $1$ |
# | $n = -1 \cdot s$ | scale by $-1$ | $-1$ |
# | $e = \exp(n)$ | exp | $0.37$ |
# | $d = e + 1$ | add a constant | $1.37$ |
# | $f = 1/d$ | reciprocal | $0.73$ |
#
# The library's graph engine builds exactly this graph. A `Node` holds a value; `apply(gate, *parents)` runs
# that gate's forward function (given, it works already) and records the parents and the cache.

# %%
w0, x0 = Node(2.0, "w0"), Node(-1.0, "x0")
w1, x1 = Node(-3.0, "w1"), Node(-2.0, "x1")
w2 = Node(-3.0, "w2")

p0 = apply("multiply", w0, x0, label="p0")
p1 = apply("multiply", w1, x1, label="p1")
a = apply("add", p0, p1, label="a")
s = apply("add", a, w2, label="s")
n = apply("scale", s, constants=(-1.0,), label="n")
e = apply("exp", n, label="e")
d = apply("add_constant", e, constants=(1.0,), label="d")
f = apply("reciprocal", d, label="f")

graph = [w0, x0, w1, x1, w2, p0, p1, a, s, n, e, d, f]
show(*graph)  # each node's value; its gradient is empty until a backward pass fills it in

# %% [markdown]
# The engine also has operator shorthand, so the same function can be written as one expression. It builds
# the same eight gates and gives the same value:

# %%
f_short = 1 / ((-1.0 * (w0 * x0 + w1 * x1 + w2)).exp() + 1)
print(f"f = {float(f_short.value):.4f}")

# %% [markdown]
# ## 2.2 The backward pass, gate by gate
#
# We want $\partial f / \partial w_i$ and $\partial f / \partial x_i$. Start at the output, where the gradient
# is $\partial f / \partial f = 1$, and walk the graph backwards. At each gate:
#
# $$\underbrace{\frac{\partial f}{\partial \text{input}}}_{\text{what we pass on}}
# = \underbrace{\frac{\partial f}{\partial \text{out}}}_{\text{upstream}} \cdot
# \underbrace{\frac{\partial \text{out}}{\partial \text{input}}}_{\text{local}}.$$
#
# The gate needs nothing else: not the rest of the graph, not the formula of $f$. Each node's `grad` will
# hold $\partial f / \partial(\text{node})$ as we fill it in.
#
# ### Gate 1: the reciprocal, $f = 1/d$
#
# - *Local derivative:* write $1/d$ as a power of $d$. What is $\dfrac{d(1/d)}{dd}$?
# - *Upstream × local:* the upstream gradient is $\partial f/\partial f = 1.00$ and $d = 1.37$. The lecture's
#   diagram has $-0.53$ on this wire: does your local derivative give it?
# - *Shapes:* `x` may be an array; one gradient, the shape of `x`.
#
# **Exercise 3.** Write `reciprocal_backward(dout, cache)` in `backprop_lib/gates.py`. The cache is the
# forward input `x`; return a one-element tuple `(dx,)`.

# %%
for node in graph:
    node.grad = np.zeros_like(node.value)  # nothing received yet
f.grad = np.array(1.0)  # df/df = 1
(d.grad,) = reciprocal_backward(f.grad, f.cache)
show(d)

# %%
backprop_lib.check("reciprocal_backward")

# %% nbgrader={"grade": true, "grade_id": "reciprocal_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: reciprocal_backward (autograded; do not edit)
result = checked("reciprocal_backward")
assert result.passed, result.report()

# %% [markdown]
# ### Gate 2: add a constant, $d = e + 1$
#
# - *Local derivative:* how much does $e + 1$ move when $e$ moves by a little?
# - *Upstream × local:* the lecture has $-0.53$ on both sides of this gate. Why the same number?
# - The constant $1$ is not a graph input: it gets no gradient.
#
# **Exercise 4.** Write `add_constant_backward(dout, cache)` in `backprop_lib/gates.py`.

# %%
(e.grad,) = add_constant_backward(d.grad, d.cache)
show(e)

# %%
backprop_lib.check("add_constant_backward")

# %% nbgrader={"grade": true, "grade_id": "add_constant_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: add_constant_backward (autograded; do not edit)
result = checked("add_constant_backward")
assert result.passed, result.report()

# %% [markdown]
# ### Gate 3: exp, $e = \exp(n)$
#
# - *Local derivative:* what is $\dfrac{d\,e^{n}}{dn}$? `exp_forward` caches its *output*, not its input:
#   why is that enough?
# - *Upstream × local:* at $n = -1$ with upstream $-0.53$, the lecture has $-0.20$.
#
# **Exercise 5.** Write `exp_backward(dout, cache)` in `backprop_lib/gates.py`.

# %%
(n.grad,) = exp_backward(e.grad, e.cache)
show(n)

# %%
backprop_lib.check("exp_backward")

# %% nbgrader={"grade": true, "grade_id": "exp_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: exp_backward (autograded; do not edit)
result = checked("exp_backward")
assert result.passed, result.report()

# %% [markdown]
# ### Gate 4: scale by a constant, $n = -1 \cdot s$
#
# - *Local derivative:* what is $\dfrac{d(c\,s)}{ds}$ for a constant $c$?
# - *Upstream × local:* with $c = -1$ and upstream $-0.20$, the lecture has $0.20$: the sign flips.
#
# **Exercise 6.** Write `scale_backward(dout, cache)` in `backprop_lib/gates.py` (the cache is `c`).

# %%
(s.grad,) = scale_backward(n.grad, n.cache)
show(s)

# %%
backprop_lib.check("scale_backward")

# %% nbgrader={"grade": true, "grade_id": "scale_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: scale_backward (autograded; do not edit)
result = checked("scale_backward")
assert result.passed, result.report()

# %% [markdown]
# ### Gates 5 and 6: add, $s = a + w_2$ and $a = p_0 + p_1$
#
# - *Local derivatives:* what are $\dfrac{\partial(a + b)}{\partial a}$ and $\dfrac{\partial(a + b)}{\partial b}$?
# - *Upstream × local:* the lecture's diagram has $0.20$ on the wires into $a$, $w_2$, $p_0$ and $p_1$: all
#   four the same. Why? (Notebook 3 gives this pattern a name.)
# - *Shapes:* inputs may have different shapes when numpy broadcasts them (a bias added to every row, say).
#
# **Exercise 7.** Write `add_backward(dout, cache)` in `backprop_lib/gates.py`. It returns two gradients, each
# with its own input's shape: `sum_to_shape` from `backprop_lib/broadcast.py` undoes a broadcast.

# %%
a.grad, w2.grad = add_backward(s.grad, s.cache)
p0.grad, p1.grad = add_backward(a.grad, a.cache)
show(a, w2, p0, p1)

# %%
backprop_lib.check("add_backward")

# %% nbgrader={"grade": true, "grade_id": "add_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: add_backward (autograded; do not edit)
result = checked("add_backward")
assert result.passed, result.report()

# %% [markdown]
# ### Gates 7 and 8: multiply, $p_0 = w_0 x_0$ and $p_1 = w_1 x_1$
#
# - *Local derivatives:* what are $\dfrac{\partial(w x)}{\partial w}$ and $\dfrac{\partial(w x)}{\partial x}$?
# - *Upstream × local:* the upstream gradient is $0.20$ at both multiply gates; $w = (2, -3)$ and
#   $x = (-1, -2)$. The lecture has $\partial f/\partial w_0 = -0.20$, $\partial f/\partial x_0 = 0.39$,
#   $\partial f/\partial w_1 = -0.39$ and $\partial f/\partial x_1 = -0.59$. Which value multiplies the
#   upstream gradient for each input? (Notebook 3 gives this pattern a name too.)
#
# **Exercise 8.** Write `multiply_backward(dout, cache)` in `backprop_lib/gates.py`.

# %%
w0.grad, x0.grad = multiply_backward(p0.grad, p0.cache)
w1.grad, x1.grad = multiply_backward(p1.grad, p1.cache)
show(w0, x0, w1, x1)

# %%
backprop_lib.check("multiply_backward")

# %% nbgrader={"grade": true, "grade_id": "multiply_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: multiply_backward (autograded; do not edit)
result = checked("multiply_backward")
assert result.passed, result.report()

# %% [markdown]
# ### The whole graph
#
# Every node now holds its value (forward) and $\partial f / \partial(\text{node})$ (backward). Compare with
# the course's diagram: $\partial f / \partial w = (-0.20, -0.39, 0.20)$ and $\partial f / \partial x =
# (0.39, -0.59)$.

# %% tags=["illustration"]
show(*graph)

# %% [markdown]
# The graph viewer draws the same circuit as the course does, values in one colour and gradients in another.
# Its step control replays this backward pass one gate at a time, with *local × upstream* at each gate, in the
# order you just used (given here as a list: notebook 4's `topological_sort` will find such an order by
# itself). Each step runs your own backward function for that gate.

# %% tags=["illustration"]
from backprop_lib.kit.widgets import graph_viewer

graph_viewer(f, order=graph)

# %% [markdown]
# Is it right? The gradient with respect to the *inputs* can be checked without trusting any gate: nudge
# each input by $\pm h$, rerun the forward pass, and take centered differences.


# %% tags=["illustration"]
def f_of(w0, x0, w1, x1, w2):
    return 1 / (1 + np.exp(-(w0 * x0 + w1 * x1 + w2)))


point = {node.label: float(node.value) for node in (w0, x0, w1, x1, w2)}
h = 1e-6
for name in point:
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    print(f"df/d{name} = {(f_of(**up) - f_of(**down)) / (2 * h):6.2f}   (centered differences)")

# %% [markdown]
# ## 2.3 Collapse the tail into a sigmoid gate
#
# The four gates after $s$ compute $\sigma(s) = 1/(1 + e^{-s})$. Any differentiable piece of a graph can be
# one gate, as long as we know its local gradient. Derive the sigmoid's:
#
# - *Local derivative:* differentiate $\sigma(s) = (1 + e^{-s})^{-1}$ with the chain rule. Then split the
#   result into two fractions, each of which you can write with $\sigma(s)$ alone. What does the local
#   gradient look like in terms of the gate's *output* only?
# - *Upstream × local:* at $s = 1$, $\sigma(s) = 0.73$ and the upstream gradient is $1.00$. The four gates
#   gave $\partial f/\partial s = 0.20$: one sigmoid gate must give the same.
#
# **Exercise 9.** Write `sigmoid_backward(dout, cache)` in `backprop_lib/activations.py`. The cache is
# `(x, out)`; compute the local gradient from `out`.

# %%
sigma = apply("sigmoid", s, label="σ")
(ds_sigmoid,) = sigmoid_backward(np.array(1.0), sigma.cache)
print(f"sigma(s) = {float(sigma.value):.2f}")
print(f"one sigmoid gate:  df/ds = {float(ds_sigmoid):.2f}")
print(f"four gates:        df/ds = {float(s.grad):.2f}")

# %%
backprop_lib.check("sigmoid_backward")

# %% nbgrader={"grade": true, "grade_id": "sigmoid_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: sigmoid_backward (autograded; do not edit)
result = checked("sigmoid_backward")
assert result.passed, result.report()

# %% [markdown]
# ## 2.4 The course's numbers, from your gates
#
# This last test rebuilds the example from scratch and runs your gates backwards through it.

# %% nbgrader={"grade": true, "grade_id": "sigmoid_neuron_example", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: the worked example with your gates (autograded; do not edit)
t_got = np.round(neuron_by_gates(**SIGMOID_NEURON), 2)  # the gates of 2.2, in the same order
assert np.allclose(t_got, NEURON_GRADIENTS), f"df/d(w0, w1, w2, x0, x1) = {t_got}; the course has {NEURON_GRADIENTS}"

# %% [markdown]
# ## Recap
#
# - A computation graph breaks a function into gates; the forward pass computes and caches values.
# - The backward pass starts with $\partial f / \partial f = 1$ and walks back: at each gate, **upstream
#   gradient × local gradient**, using only what that gate cached.
# - Every gate's backward is the same three steps: its local derivative, times the upstream gradient, in each
#   input's shape. You derived seven of them; the lecture's numbers check each one.
# - A chain of gates can collapse into one gate if its local gradient is known: the sigmoid's needs only the
#   gate's output.
# - Course numbers: $f = 0.73$; $-0.53$ after $1/x$, $-0.20$ after exp, $0.20$ after $\times -1$;
#   $\partial f/\partial w = (-0.20, -0.39, 0.20)$, $\partial f/\partial x = (0.39, -0.59)$.
#
# **Next:** notebook 3 looks at what add, multiply and max gates do to gradients, and what happens when a
# value is used twice.
