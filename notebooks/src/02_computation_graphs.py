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
# 4. collapse a chain of gates into one sigmoid gate with $\sigma'(x) = \sigma(x)(1 - \sigma(x))$.
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

# %%
# %load_ext autoreload
# %autoreload 2
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
from backprop_lib.kit.widgets import graph_viewer

setup()

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
# Local gradient $\dfrac{d(1/d)}{dd} = -\dfrac{1}{d^2}$. At $d = 1.37$ with upstream $1.00$:
# $1.00 \cdot (-1/1.37^2) = -0.53$.
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
# Local gradient $\dfrac{d(e + 1)}{de} = 1$: the gradient passes through unchanged, $-0.53$. The constant
# $1$ is not a graph input and gets no gradient.
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
# Local gradient $\dfrac{d\,e^{n}}{dn} = e^{n}$, which is the gate's own output (that is why `exp_forward`
# caches its output). At $n = -1$: $-0.53 \cdot e^{-1} = -0.20$.
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
# Local gradient $\dfrac{d(c\,s)}{ds} = c = -1$: $-0.20 \cdot (-1) = 0.20$. The sign flips.
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
# Local gradients $\dfrac{\partial(a + b)}{\partial a} = \dfrac{\partial(a + b)}{\partial b} = 1$: an add
# gate hands the upstream gradient, unchanged, to *both* inputs. So $a$, $w_2$, $p_0$ and $p_1$ all get
# $0.20$. (Notebook 3 calls this the *distributor*.)
#
# **Exercise 7.** Write `add_backward(dout, cache)` in `backprop_lib/gates.py`. It returns two gradients.
# Inputs may have different shapes when numpy broadcasts them (a bias added to every row, say): each
# gradient must have its own input's shape, which `sum_to_shape` from `backprop_lib/broadcast.py` restores.

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
# Local gradients $\dfrac{\partial(w x)}{\partial w} = x$ and $\dfrac{\partial(w x)}{\partial x} = w$: each
# input gets the upstream gradient times the *other* input. So $\partial f/\partial w_0 = 0.20 \cdot (-1) =
# -0.20$ and $\partial f/\partial x_0 = 0.20 \cdot 2 = 0.39$; $\partial f/\partial w_1 = 0.20 \cdot (-2) =
# -0.39$ and $\partial f/\partial x_1 = 0.20 \cdot (-3) = -0.59$. (Notebook 3: the *switcher*.)
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
# Its step control replays this backward pass one gate at a time, with *local × upstream* at each gate. It
# orders the gates with the engine's `topological_sort`, which you write in notebook 4: until then it shows
# the forward values and says so.

# %% tags=["illustration"]
graph_viewer(f)

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
# one gate, as long as we know its local gradient. For the sigmoid it is remarkably simple:
#
# $$\sigma'(s) = \frac{e^{-s}}{(1 + e^{-s})^2} = \frac{1}{1 + e^{-s}} \cdot \frac{e^{-s}}{1 + e^{-s}}
# = \sigma(s)\,\bigl(1 - \sigma(s)\bigr).$$
#
# The local gradient needs only the gate's *output*. At $s = 1$: $\sigma(s) = 0.73$ and with upstream $1.00$
# the gradient is $0.73 \cdot (1 - 0.73) = 0.73 \cdot 0.27 = 0.20$, the same $0.20$ that four gates gave us.
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
t_w = [Node(v) for v in (2.0, -3.0, -3.0)]
t_x = [Node(v) for v in (-1.0, -2.0)]
t_p0, t_p1 = apply("multiply", t_w[0], t_x[0]), apply("multiply", t_w[1], t_x[1])
t_a = apply("add", t_p0, t_p1)
t_s = apply("add", t_a, t_w[2])
t_f = apply("sigmoid", t_s)
(t_ds,) = sigmoid_backward(np.array(1.0), t_f.cache)
t_da, t_dw2 = add_backward(t_ds, t_s.cache)
t_dp0, t_dp1 = add_backward(t_da, t_a.cache)
t_dw0, t_dx0 = multiply_backward(t_dp0, t_p0.cache)
t_dw1, t_dx1 = multiply_backward(t_dp1, t_p1.cache)
t_got = np.round(np.array([t_dw0, t_dw1, t_dw2, t_dx0, t_dx1], dtype=float), 2)
assert np.allclose(t_got, [-0.20, -0.39, 0.20, 0.39, -0.59]), (
    f"df/d(w0, w1, w2, x0, x1) = {t_got}; the course has (-0.20, -0.39, 0.20, 0.39, -0.59)"
)

# %% [markdown]
# ## Recap
#
# - A computation graph breaks a function into gates; the forward pass computes and caches values.
# - The backward pass starts with $\partial f / \partial f = 1$ and walks back: at each gate, **upstream
#   gradient × local gradient**, using only what that gate cached.
# - Local gradients of this example: reciprocal $-1/x^2$, add-a-constant $1$, exp $e^x$ (its output), scale
#   $c$, add $1$ for both inputs, multiply "the other input".
# - A chain of gates can collapse into one gate if its local gradient is known: the sigmoid's is
#   $\sigma(1 - \sigma)$, computed from its output.
# - Course numbers: $f = 0.73$; $-0.53$ after $1/x$, $-0.20$ after exp, $0.20$ after $\times -1$;
#   $\partial f/\partial w = (-0.20, -0.39, 0.20)$, $\partial f/\partial x = (0.39, -0.59)$.
#
# **Next:** notebook 3 looks at what add, multiply and max gates do to gradients, and what happens when a
# value is used twice.
