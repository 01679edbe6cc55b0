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
# # 3. Gate patterns
#
# **Learning goals.** After this notebook you can
#
# 1. predict what the three most common gates do to a gradient without computing anything:
#    **add distributes**, **multiply switches**, **max routes**;
# 2. explain why gradients **add** where a value forks (is used more than once);
# 3. derive and write the backward of the max gate (and what happens at a tie) and of four more gates:
#    subtract, negate, power and log.
#
# The worked example is the circuit
#
# $$f(x, y, z, w) = 2\,\bigl(x y + \max(z, w)\bigr) \qquad \text{at } x = 3,\ y = -4,\ z = 2,\ w = -1.$$

# %%
import numpy as np

import backprop_lib
from backprop_lib.gates import (
    add_backward,
    log_backward,
    maximum_backward,
    multiply_backward,
    negate_backward,
    power_backward,
    scale_backward,
    subtract_backward,
)
from backprop_lib.graph import Node, apply
from backprop_lib.kit.notebook import checked, setup, show
from backprop_lib.kit.worked_examples import CIRCUIT, CIRCUIT_GRADIENTS, circuit_by_gates

setup()  # autoreload (the files you save are used, no restart) and one-line messages for stubs

# %% [markdown]
# ## 3.1 Forward
#
# $q = x y = -12$, $m = \max(z, w) = 2$, $s = q + m = -10$, $f = 2 s = -20$.

# %%
x, y, z, w = Node(3.0, "x"), Node(-4.0, "y"), Node(2.0, "z"), Node(-1.0, "w")
q = apply("multiply", x, y, label="q")
m = apply("maximum", z, w, label="m")
s = apply("add", q, m, label="s")
f = apply("scale", s, constants=(2.0,), label="f")
circuit = [x, y, z, w, q, m, s, f]
show(*circuit)

# %% [markdown]
# ## 3.2 Backward, and the three patterns
#
# Start with $\partial f / \partial f = 1$. The scale gate multiplies it by its constant: $\partial f /
# \partial s = 2$ (you wrote `scale_backward` in notebook 2).

# %%
for node in circuit:
    node.grad = np.zeros_like(node.value)  # nothing received yet
f.grad = np.array(1.0)  # df/df = 1
(s.grad,) = scale_backward(f.grad, f.cache)
show(s)

# %% [markdown]
# ### Add is a gradient distributor
#
# You derived the add gate's backward in notebook 2. Run it here: with upstream $2$, the lecture has
# $\partial f/\partial q = \partial f / \partial m = 2$. Each input gets the full upstream gradient, however
# large or small its input was.

# %%
q.grad, m.grad = add_backward(s.grad, s.cache)
show(q, m)

# %% [markdown]
# ### Multiply is a gradient switcher
#
# Your `multiply_backward` from notebook 2, with upstream $2$ at $x = 3$, $y = -4$: the lecture has
# $\partial f/\partial x = 2 \cdot (-4) = -8$ and $\partial f / \partial y = 2 \cdot 3 = 6$. Each input's
# gradient is scaled by the *other* input's value.
#
# A consequence worth remembering: in $x w$, the gradient on a weight $w$ is scaled by its input $x$. Multiply
# all inputs by 1000 and the weights' gradients grow by 1000 too, which is one reason inputs are normalised
# before training.

# %%
x.grad, y.grad = multiply_backward(q.grad, q.cache)
show(x, y)

# %% [markdown]
# ### Max is a gradient router
#
# Derive the max gate's backward before you write it:
#
# - *Local derivatives:* at $z = 2$, $w = -1$, nudge $z$ by a little: how much does $\max(z, w)$ move? Nudge
#   $w$ by a little: how much does it move now? What decides which input is which?
# - *Upstream × local:* the upstream gradient is $2$. The lecture has $\partial f / \partial z = 2$ and
#   $\partial f/\partial w = 0$.
# - *Shapes:* elementwise, for any shapes numpy can broadcast: each gradient in its own input's shape.
#
# **Ties and kinks.** At an exact tie ($z = w$) the max has no derivative; any *subgradient* is valid: any
# split of the upstream gradient between the two inputs, with shares between 0 and 1 that add up to 1. The
# checks accept every valid subgradient at a tie. The course's reference splits a tie equally (half to each
# input), and notebook 5's ReLU takes the same rule at its kink ($x = 0$ gets half the upstream gradient), so
# $\max(x, 0)$ and $\mathrm{relu}(x)$ agree everywhere.
#
# **Exercise 10.** Write `maximum_backward(dout, cache)` in `backprop_lib/gates.py` (the cache is `(a, b)`).
# Stuck? `backprop_lib.hint("maximum_backward")`.

# %%
z.grad, w.grad = maximum_backward(m.grad, m.cache)
show(z, w)

# %%
backprop_lib.check("maximum_backward")

# %% nbgrader={"grade": true, "grade_id": "maximum_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: maximum_backward (autograded; do not edit)
result = checked("maximum_backward")
assert result.passed, result.report()

# %% [markdown]
# The whole circuit, as in the course: $\partial f / \partial (x, y, z, w) = (-8, 6, 2, 0)$.

# %% tags=["illustration"]
show(*circuit)

# %% [markdown]
# ### Try it: the gate explorer
#
# Move the inputs and the upstream gradient of each gate and watch the pattern: the add gate copies the
# upstream gradient to both inputs, the multiply gate swaps the inputs into the gradients, the max gate
# sends everything to the larger input.

# %% tags=["illustration"]
from backprop_lib.kit.widgets import gate_explorer

gate_explorer()

# %% [markdown]
# ## 3.3 Gradients add where a value forks
#
# When a value is used twice, it influences the output along two paths. The multivariable chain rule says the
# total derivative is the **sum** over the paths:
#
# $$f = g(u(x), v(x)) \quad\Rightarrow\quad \frac{\partial f}{\partial x} = \frac{\partial f}{\partial u}
# \frac{\partial u}{\partial x} + \frac{\partial f}{\partial v} \frac{\partial v}{\partial x}.$$
#
# So in a backward pass, every gradient arriving at a node is *added* to what is already there: `grad +=`,
# never `grad =`. Example: $g = x \cdot x$ through a multiply gate whose two inputs are the same node. Each
# input slot receives upstream $\times$ the other input, $x$; the node gets the sum, $2x$, which is exactly
# the derivative of $x^2$.

# %% tags=["illustration"]
t = Node(3.0, "t")
g = apply("multiply", t, t, label="g")  # t is used twice
g.grad = np.array(1.0)
t.grad = np.zeros_like(t.value)
for contribution in multiply_backward(g.grad, g.cache):  # one gradient per use of t
    t.grad += contribution  # accumulate, do not overwrite
show(t)
print("d(t^2)/dt = 2t =", 2 * float(t.value))

# %% [markdown]
# If the loop said `t.grad = contribution`, the answer would be $3$ instead of $6$: half the gradient lost.
# This is the most common bug in a hand-written backward pass; notebook 4's engine must get it right.
#
# ## 3.4 More gates, same pattern
#
# Every other gate is the same recipe: the local derivative of the output with respect to each input, times
# the upstream gradient, one gradient per input with that input's shape. Four more that the rest of the course
# uses; fill in the two middle columns on paper:
#
# | gate | forward | local derivative(s) | what each input receives | a question to ask |
# |---|---|---|---|---|
# | subtract | $a - b$ | ? | ? | $a - b = a + (-1)\,b$: which gates of notebook 2 is that? |
# | negate | $-x$ | ? | ? | a scale gate with which constant? |
# | power | $x^p$, constant $p$ | ? | ? | the power rule; what should $p = 0$ give at $x = 0$? |
# | log | $\ln x$ | ? | ? | how fast does $\ln x$ grow near 0, and near 100? |
#
# **Exercise 11.** Write `subtract_backward`, `negate_backward`, `power_backward` and `log_backward` in
# `backprop_lib/gates.py`. Subtract broadcasts like add: reduce each gradient to its input's shape. Stuck?
# `backprop_lib.hint("power_backward")` (or any other exercise's name).
#
# A derived gate must agree with the gates it stands for. $a - b$ through one subtract gate and through
# $a + (-b)$ (a negate and an add) give the same gradients; so do $t^2$ through the power gate and $t \cdot t$
# through a multiply gate with a fork (above):

# %%
a, b = Node(5.0, "a"), Node(2.0, "b")
difference = apply("subtract", a, b)
da, db = subtract_backward(np.array(1.0), difference.cache)
print(f"subtract gate:   d(a - b)/da = {float(da):.0f}, d(a - b)/db = {float(db):.0f}")

minus_b = apply("negate", b)
total = apply("add", a, minus_b)
da, d_minus_b = add_backward(np.array(1.0), total.cache)
(db,) = negate_backward(d_minus_b, minus_b.cache)
print(f"add of a negate: d(a - b)/da = {float(da):.0f}, d(a - b)/db = {float(db):.0f}")

(dt_power,) = power_backward(np.array(1.0), apply("power", Node(3.0), constants=(2,)).cache)
print(f"power gate: d(t^2)/dt at t = 3 is {float(dt_power):.0f}")

# %% [markdown]
# The log gate appears in every classification loss (notebook 1's $-\log h_2$, notebook 7's cross-entropy).
# Run your `log_backward` on three predicted probabilities of the right class: which one gets the biggest
# push, and why is that what a loss should do to a confident wrong prediction?

# %%
p = Node(np.array([0.9, 0.5, 0.01]), "p")
loss = apply("negate", apply("log", p))
(dlog,) = log_backward(-np.ones(3), loss.parents[0].cache)  # upstream of log: d(-u)/du = -1
print("p        =", p.value)
print("d(-ln p) =", dlog.round(2))

# %%
backprop_lib.check("subtract_backward", "negate_backward", "power_backward", "log_backward")

# %% nbgrader={"grade": true, "grade_id": "subtract_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: subtract_backward (autograded; do not edit)
result = checked("subtract_backward")
assert result.passed, result.report()

# %% nbgrader={"grade": true, "grade_id": "negate_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: negate_backward (autograded; do not edit)
result = checked("negate_backward")
assert result.passed, result.report()

# %% nbgrader={"grade": true, "grade_id": "power_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: power_backward (autograded; do not edit)
result = checked("power_backward")
assert result.passed, result.report()

# %% nbgrader={"grade": true, "grade_id": "log_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: log_backward (autograded; do not edit)
result = checked("log_backward")
assert result.passed, result.report()

# %% [markdown]
# ## 3.5 The circuit with your gates
#
# This test rebuilds the course circuit and checks the gradients $(-8, 6, 2, 0)$.

# %% nbgrader={"grade": true, "grade_id": "circuit_example", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: f = 2 (x y + max(z, w)) at (3, -4, 2, -1) with your gates (autograded; do not edit)
t_got = circuit_by_gates(**CIRCUIT)  # scale, add, multiply and max backward, output to inputs
assert np.allclose(t_got, CIRCUIT_GRADIENTS), f"df/d(x, y, z, w) = {t_got}; the course has {CIRCUIT_GRADIENTS}"

# %% [markdown]
# ## Recap
#
# - Three patterns to recognise in any circuit: **add distributes**, **multiply switches**, **max routes**
#   (in the lecture's circuit: $2$ and $2$ after the add; $-8$ and $6$ after the multiply; $2$ and $0$ after
#   the max).
# - Ties and kinks: any valid subgradient passes the checks; the course's reference splits a tie equally, so
#   $\max(x, 0)$ and the ReLU agree.
# - **Forks add**: a value used $k$ times receives the sum of $k$ gradients; accumulate with `+=`.
# - Any gate: local derivative, times the upstream gradient, one gradient per input, in that input's shape.
# - The course circuit: $\partial f / \partial(x, y, z, w) = (-8, 6, 2, 0)$.
#
# **Next:** notebook 4 turns the hand-run sweeps of notebooks 2 and 3 into one algorithm that works on any
# graph.
