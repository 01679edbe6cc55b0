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
# # 1. The chain rule
#
# **Learning goals.** After this notebook you can
#
# 1. describe a neural network as a composition of layers and say why training it with stochastic gradient
#    descent (SGD) needs the derivative of the error with respect to the weights of *every* layer;
# 2. write a gradient checker (centered differences and a relative error), and choose its step size knowing
#    what truncation and round-off do in float32 and float64;
# 3. write the chain rule in Lagrange and in Leibniz notation, and check it numerically;
# 4. derive the gradients of two toy networks by hand (k = 1 and k = 2 layers) and write your answers as code;
# 5. state the general pattern that backpropagation is built on:
#    $\frac{\partial e}{\partial w_k} = \underbrace{\frac{\partial e}{\partial h_k}}_{\text{upstream}}
#    \cdot \underbrace{\frac{\partial h_k}{\partial w_k}}_{\text{local}}$.
#
# **How the course notebooks work.** You never write code in a notebook. Every exercise is a function in the
# library `backprop_lib/` that raises `NotImplementedError` until you write its body. Open the file in
# JupyterLab's editor, write the function, save: the next cell you run uses your saved code (the first cell
# below turns on `autoreload`). The notebooks explain, show worked examples computed by *your* library, and
# check your work:
#
# - a **self-check** cell after each exercise prints one row: *passed*, *not implemented yet*, or *failed*
#   with the worst wrong element and a hint;
# - a locked **test** cell after it is what the autograder scores. Do not edit it.
#
# A cell that needs an exercise you have not written yet prints one line saying which function, in which
# file, to write. Run the first cell now.

# %%
import numpy as np

import backprop_lib
from backprop_lib.derivations import logistic_factors, squared_error_factors
from backprop_lib.gradient_check import numerical_gradient, relative_error
from backprop_lib.kit.notebook import checked, setup

setup()  # autoreload (the files you save are used, no restart) and one-line messages for stubs

# %% [markdown]
# ## 1.1 A network is a composition of layers
#
# A network with $K$ layers computes its output by applying one function after another. Layer $k$ takes the
# previous layer's output $h_{k-1}$ (with $h_0 = x$, the input) and its own weights $w_k$:
#
# $$h_1 = f_1(x; w_1), \quad h_2 = f_2(h_1; w_2), \quad \dots, \quad h_K = f_K(h_{K-1}; w_K),
# \qquad e = \ell(h_K, y).$$
#
# The error $e$ compares the output with the target $y$. Written in one line, the network is a composition:
# $e = \ell(f_K(\dots f_2(f_1(x; w_1); w_2) \dots; w_K), y)$.
#
# **Stochastic gradient descent** trains it one example (or one small batch) at a time: every weight takes a
# small step against its own gradient,
#
# $$w_k \leftarrow w_k - \eta \, \frac{\partial e}{\partial w_k} \qquad \text{for every layer } k = 1, \dots, K,$$
#
# with a learning rate $\eta$. So each step needs $\partial e / \partial w_k$ for *every* layer, including the
# first one, which is buried deepest inside the composition. The chain rule is how we get it.
#
# A gradient can always be *estimated* numerically with centered differences, by nudging one weight up and
# down and watching the error:
#
# $$\frac{\partial e}{\partial w_i} \approx \frac{e(w + h\,\mathbf{1}_i) - e(w - h\,\mathbf{1}_i)}{2h}.$$
#
# That costs two forward passes *per weight*: for a network with a million weights, two million forward
# passes for one SGD step. Backpropagation gets all of them exactly for about the cost of one more pass. We
# will still use centered differences all the time, to *check* the gradients we derive; so the first thing
# you write is the checker.
#
# **Exercise 1a.** Write `numerical_gradient(f, x, h=1e-5)` in `backprop_lib/gradient_check.py`: the
# centered-difference estimate above for every element of an array `x` of any shape (a vector, a matrix, a
# number). Before you write it, answer for yourself:
#
# 1. How do you visit every element of an array of *any* shape, one at a time? (`range(len(x))` visits only
#    the rows of a matrix.)
# 2. If you nudge `x[i]` in place, what must hold when your function returns? Why would the caller care?
# 3. What is the distance between the two points you evaluate, and so what do you divide by?
#
# **Exercise 1b.** Two gradients never agree to the last bit, so a check needs a measure of "close". Write
# `relative_error(a, b)`: the largest elementwise $|a - b| / \max(|a|, |b|)$, with 0 where $a$ and $b$ are
# both 0. It does not depend on the gradients' scale, and it treats $a$ and $b$ alike.
#
# Predict the first line before you run the next cell: what is the gradient of $\sum_i x_i^2$ at
# $(1, -2, 0.5)$?

# %%
print(numerical_gradient(lambda v: float(np.sum(v**2)), np.array([1.0, -2.0, 0.5])), "  (f = sum of squares)")
print(f"{relative_error(np.array([1.0, 0.0, 3.0]), np.array([1.5, 0.0, 3.0])):.4f}  (expected 1/3)")

# %%
backprop_lib.check("numerical_gradient", "relative_error")

# %% nbgrader={"grade": true, "grade_id": "numerical_gradient", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: numerical_gradient (autograded; do not edit)
result = checked("numerical_gradient")
assert result.passed, result.report()

# %% nbgrader={"grade": true, "grade_id": "relative_error", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: relative_error (autograded; do not edit)
result = checked("relative_error")
assert result.passed, result.report()

# %% [markdown]
# ## 1.2 The chain rule
#
# For a composition $z = f(g(x))$ there are two common ways to write the same rule.
#
# - **Lagrange** (primes): $(f \circ g)'(x) = f'(g(x)) \cdot g'(x)$. The outer derivative is evaluated at
#   the *inner value* $g(x)$.
# - **Leibniz** (fractions): with $y = g(x)$ and $z = f(y)$,
#   $\dfrac{dz}{dx} = \dfrac{dz}{dy} \cdot \dfrac{dy}{dx}$. Each factor is the derivative of one step, and the
#   intermediate value $y$ is what the first factor is evaluated at.
#
# A small example: $z = \exp(y)$ with $y = x^2$. Then $dz/dy = \exp(y)$, $dy/dx = 2x$, and
# $dz/dx = \exp(x^2) \cdot 2x$. At $x = 0.5$:

# %%
x = 0.5
y = x**2
dz_dy = np.exp(y)  # outer derivative, at the inner value y
dy_dx = 2 * x  # inner derivative
print(f"chain rule:           dz/dx = {dz_dy:.6f} * {dy_dx:.6f} = {dz_dy * dy_dx:.6f}")
print(f"centered differences: dz/dx = {numerical_gradient(lambda v: float(np.exp(v**2)), np.array(x)):.6f}")

# %% [markdown]
# The Leibniz form is the one to keep in mind: it reads like a path through the computation, one factor per
# step, and it generalises to vectors, where each factor becomes a Jacobian (notebook 5).
#
# **Notation in this course.** Vectors are *row* vectors. A layer's pre-activation is $h = x\,w$ for a row
# vector $x$ of shape $(1 \times M)$, which for a single output is the dot product written $w^T x$ in
# column-vector texts. In code both are `x @ w` with `x` and `w` of shape `(M,)`.
#
# ## 1.3 Toy case k = 1: one linear unit with a squared error
#
# $$h_1 = w_1^T x, \qquad e = (y - h_1)^2.$$
#
# **Exercise 2a.** Derive the three factors of the chain rule at a given point and return them from
# `squared_error_factors(x, w1, y)` in `backprop_lib/derivations.py`:
#
# 1. $\dfrac{\partial h_1}{\partial w_1}$, shape $(M,)$: how $h_1$ moves with each weight;
# 2. $\dfrac{\partial e}{\partial h_1}$, a number: the upstream gradient of the error;
# 3. $\dfrac{\partial e}{\partial w_1} = \dfrac{\partial e}{\partial h_1} \cdot
#    \dfrac{\partial h_1}{\partial w_1}$, shape $(M,)$.
#
# Work on paper first: write $h_1 = \sum_m w_{1,m} x_m$ and differentiate with respect to one weight
# $w_{1,m}$. The docstring in the file says what to return.
#
# The worked example below uses $x = (1, 2, -1)$, $w_1 = (0.5, -0.3, 0.2)$, $y = 1$, so
# $h_1 = 0.5 - 0.6 - 0.2 = -0.3$ and $e = (1 - (-0.3))^2 = 1.69$. Predict the three factors before you run it.

# %%
x1 = np.array([1.0, 2.0, -1.0])
w1 = np.array([0.5, -0.3, 0.2])
y1 = 1.0
h1 = x1 @ w1
print(f"h1 = {h1:.2f}, e = {(y1 - h1) ** 2:.2f}")

dh1_dw1, de_dh1, de_dw1 = squared_error_factors(x1, w1, y1)
print(f"dh1/dw1 = {dh1_dw1}")
print(f"de/dh1  = {de_dh1:.2f}")
print(f"de/dw1  = {de_dw1}   (your chain-rule product)")
print(f"de/dw1  = {numerical_gradient(lambda w: (y1 - x1 @ w) ** 2, w1.copy())}   (centered differences)")

# %% [markdown]
# **Check your work.** This cell runs the checks of `squared_error_factors` on your saved file, in a fresh
# process, on points you have not seen.

# %%
backprop_lib.check("squared_error_factors")

# %% nbgrader={"grade": true, "grade_id": "squared_error_factors", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: squared_error_factors (autograded; do not edit)
result = checked("squared_error_factors")
assert result.passed, result.report()

# %% [markdown]
# ### Why every layer needs its gradient: SGD with your derivation
#
# With $\partial e / \partial w_1$ in hand, SGD can fit the unit to data. Here 40 examples come from a
# "true" weight vector; every step takes one example and moves $w_1$ against your gradient. Watch the error
# fall and $w_1$ approach the true weights.

# %% tags=["illustration"]
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
w_true = np.array([2.0, -1.0, 0.5])
inputs = rng.normal(size=(40, 3))
targets = inputs @ w_true + 0.1 * rng.normal(size=40)  # a little noise

w = np.zeros(3)
eta = 0.05
mean_errors = []
for _ in range(20):
    for x_n, y_n in zip(inputs, targets, strict=True):
        *_, gradient = squared_error_factors(x_n, w, y_n)
        w = w - eta * gradient
    mean_errors.append(np.mean((targets - inputs @ w) ** 2))
print(f"after {len(mean_errors)} epochs: mean error {mean_errors[-1]:.2e}, w1 = {np.round(w, 3)}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(range(1, len(mean_errors) + 1), mean_errors, marker="o")
ax.set(xlabel="epoch", ylabel="mean squared error", title="SGD on one linear unit")
plt.show()

# %% [markdown]
# ## 1.4 Toy case k = 2: a linear unit, a sigmoid, and the log loss
#
# Now two functions in a row, for a target $y = 1$:
#
# $$h_1 = w_1^T x, \qquad h_2 = \sigma(h_1) = \frac{1}{1 + e^{-h_1}}, \qquad e = -\log h_2.$$
#
# The chain rule now has three factors, one per step of the computation:
#
# $$\frac{\partial e}{\partial w_1} = \frac{\partial e}{\partial h_2} \cdot \frac{\partial h_2}{\partial h_1}
# \cdot \frac{\partial h_1}{\partial w_1}.$$
#
# **Exercise 2b.** Derive each factor and return them from `logistic_factors(x, w1)` in
# `backprop_lib/derivations.py`: $\partial h_1 / \partial w_1$ (shape $(M,)$), $\partial h_2 / \partial h_1$
# (a number), $\partial e / \partial h_2$ (a number) and their product $\partial e / \partial w_1$ (shape $(M,)$).
#
# Two derivatives to work out first. $\sigma'(h)$: write $\sigma(h) = (1 + e^{-h})^{-1}$, differentiate with
# the chain rule, and then try to write the result using $\sigma(h)$ alone, without $e^{-h}$ (if you can, a
# backward pass of the sigmoid needs only its output). And $\frac{d}{dh}(-\log h)$.

# %%
dh1_dw1, dh2_dh1, de_dh2, de_dw1 = logistic_factors(x1, w1)
h2 = 1 / (1 + np.exp(-(x1 @ w1)))
print(f"h1 = {x1 @ w1:.2f}, h2 = sigma(h1) = {h2:.4f}, e = -log h2 = {-np.log(h2):.4f}")
print(f"dh1/dw1 = {dh1_dw1}")
sigmoid = lambda h: 1 / (1 + np.exp(-h))  # noqa: E731
print(f"dh2/dh1 = {dh2_dh1:.4f}   (centered differences: {numerical_gradient(sigmoid, np.array(x1 @ w1)):.4f})")
print(f"de/dh2  = {de_dh2:.4f}   (centered differences: {numerical_gradient(lambda v: -np.log(v), np.array(h2)):.4f})")
print(f"de/dw1  = {de_dw1}   (your product)")
log_loss = lambda w: -np.log(sigmoid(x1 @ w))  # noqa: E731
print(f"de/dw1  = {numerical_gradient(log_loss, w1.copy())}   (centered differences)")

# %%
backprop_lib.check("logistic_factors")

# %% nbgrader={"grade": true, "grade_id": "logistic_factors", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Test: logistic_factors (autograded; do not edit)
result = checked("logistic_factors")
assert result.passed, result.report()

# %% [markdown]
# ## 1.5 The general case: upstream gradient times local gradient
#
# Look at how the k = 2 product groups. Everything to the left of the last factor is the gradient of the
# error with respect to the layer's *output*:
#
# $$\frac{\partial e}{\partial w_1} =
# \underbrace{\frac{\partial e}{\partial h_2} \cdot \frac{\partial h_2}{\partial h_1}}_{\partial e / \partial h_1
# \text{ (upstream)}} \cdot \underbrace{\frac{\partial h_1}{\partial w_1}}_{\text{local}}.$$
#
# In general, for layer $k$ of $K$:
#
# $$\frac{\partial e}{\partial w_k} = \frac{\partial e}{\partial h_k} \cdot \frac{\partial h_k}{\partial w_k},
# \qquad \frac{\partial e}{\partial h_{k-1}} = \frac{\partial e}{\partial h_k} \cdot
# \frac{\partial h_k}{\partial h_{k-1}}.$$
#
# - The **local gradients** $\partial h_k / \partial w_k$ and $\partial h_k / \partial h_{k-1}$ depend only on
#   layer $k$ and the values it saw in the forward pass.
# - The **upstream gradient** $\partial e / \partial h_k$ carries everything that happens *after* layer $k$.
#   Once it is known, layer $k$ needs nothing else from the rest of the network.
#
# Computed from the last layer back to the first, each upstream gradient is one multiplication away from the
# next one, so all $K$ gradients cost about one extra pass through the network. That is backpropagation. Your
# `logistic_factors` already did it: its $\partial e / \partial h_1$ is the upstream gradient of the first layer.

# %% tags=["illustration"]
dh1_dw1, dh2_dh1, de_dh2, de_dw1 = logistic_factors(x1, w1)
upstream = de_dh2 * dh2_dh1  # de/dh1, computed once
print(f"upstream de/dh1 = {upstream:.4f}")
print(f"de/dw1 = upstream * local = {upstream * dh1_dw1}")

# %% [markdown]
# ## 1.6 How small should h be? Truncation against round-off
#
# A smaller step makes the centered difference closer to the derivative, up to a point: the two values
# $f(x + h)$ and $f(x - h)$ agree in more and more leading digits, and their difference is left with
# the rounding errors of the floats. The sweep below estimates $\frac{d}{dx} e^{x^2}$ at $x = 0.5$ with your
# `numerical_gradient` for steps from $10^{-1}$ down to $10^{-12}$, once computing $f$ in float64 and once
# in float32 (7 significant digits instead of 16), and plots your `relative_error` against the exact
# derivative $2x\,e^{x^2}$. Before you run it: which curve will reach the smaller error, and at which $h$?


# %% tags=["illustration"]
import matplotlib.pyplot as plt


def exp_of_square(dtype):
    """f(x) = exp(x^2), computed in the float type dtype."""
    return lambda v: float(np.exp(np.asarray(v, dtype=dtype) ** 2))


steps = np.logspace(-12, -1, 45)
exact = 2 * 0.5 * np.exp(0.5**2)
sweep = {}  # dtype: (smallest error, its h, error at h = 1e-5)
fig, ax = plt.subplots(figsize=(5.5, 3.5))
for dtype in ("float64", "float32"):
    f = exp_of_square(dtype)
    errors = [relative_error(numerical_gradient(f, np.array(0.5), h), exact) for h in steps]
    ax.loglog(steps, np.maximum(errors, 1e-17), marker=".", label=dtype)
    best = int(np.argmin(errors))
    sweep[dtype] = (errors[best], steps[best], relative_error(numerical_gradient(f, np.array(0.5)), exact))
    print(
        f"{dtype}: smallest error {sweep[dtype][0]:.1e} at h = {sweep[dtype][1]:.0e}; at h = 1e-5: {sweep[dtype][2]:.1e}"
    )
ax.set(xlabel="step size h", ylabel="relative error", title="centered differences of exp(x^2) at x = 0.5")
ax.legend()
plt.show()


# %% [markdown]
# Read the plot from the right: there the error falls as $h$ shrinks (truncation: the next term of the
# Taylor series, proportional to $h^2$ for a centered difference). Further left it rises again (round-off:
# roughly the float's precision divided by $h$). The two meet at the best step, which the cell printed for
# each type: float32 runs out of digits at a much larger $h$ and never gets as close. Compare the errors at
# $h = 10^{-5}$, your default: excellent in float64, and in float32 large enough to look like a bug. That is
# why gradient checks run in float64, and why a check of a float32 computation needs a larger step and a
# looser tolerance.

# %% [markdown]
# ## Recap
#
# - A network is a composition $e = \ell(f_K(\dots f_1(x; w_1) \dots; w_K), y)$, and SGD needs
#   $\partial e/\partial w_k$ for every layer: $w_k \leftarrow w_k - \eta\, \partial e / \partial w_k$.
# - Chain rule: $(f \circ g)'(x) = f'(g(x))\, g'(x)$ (Lagrange) $=$ $\frac{dz}{dy} \frac{dy}{dx}$ (Leibniz).
# - k = 1 and k = 2: your derivations in `backprop_lib/derivations.py`, each factor checked against centered
#   differences.
# - General pattern: gradient = upstream gradient $\times$ local gradient, computed from the error backwards.
# - Centered differences estimate any gradient slowly but reliably: your `numerical_gradient` and
#   `relative_error` check derivations. The step size is a trade-off between truncation (large $h$) and
#   round-off (small $h$), and the best $h$ depends on the float type (section 1.6).
#
# **Next:** notebook 2 draws a function as a computation graph and runs this pattern gate by gate.
