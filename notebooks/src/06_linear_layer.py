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
# # 6. The linear layer
#
# **Learning goals.** After this notebook you can
#
# 1. derive $\partial z / \partial x$ and $\partial E / \partial W$ of $z = xW + b$ one Jacobian element at a
#    time, for one example and then for a batch;
# 2. use dimension analysis to write (and check) every gradient of the layer;
# 3. handle the bias, which is broadcast over the batch;
# 4. write the linear layer's backward pass;
# 5. apply the course's general tips to any new layer.
#
# Course notation: a batch of $N$ row vectors $x$ of shape $(N \times M)$, weights $W$ $(M \times K)$, bias
# $b$ $(K)$, output $z = xW + b$ of shape $(N \times K)$.

# %%
# %load_ext autoreload
# %autoreload 2
import numpy as np

import backprop_lib
from backprop_lib.kit.notebook import checked, setup
from backprop_lib.kit.widgets import linear_jacobian
from backprop_lib.layers import linear_backward, linear_forward

setup()

# %% [markdown]
# ## 6.1 One example: $\partial z / \partial x$, one element first
#
# For one row vector $x$ $(1 \times M)$: $z = xW + b$ has $K$ elements,
#
# $$z_k = \sum_{m=1}^{M} x_m W_{mk} + b_k.$$
#
# **One element of the Jacobian**: $\dfrac{\partial z_k}{\partial x_m} = W_{mk}$. In the layout of notebook 5
# (rows outputs $k$, columns inputs $m$) the Jacobian is $J_{km} = W_{mk}$, that is
#
# $$\frac{\partial z}{\partial x} = W^T \quad (K \times M), \qquad \frac{\partial E}{\partial x} =
# \frac{\partial E}{\partial z}\, W^T: \quad (1 \times M) = (1 \times K)(K \times M).$$
#
# Check it numerically on a small layer, $M = 3$ inputs and $K = 2$ outputs:


# %% tags=["illustration"]
def numerical_jacobian(f, x, h=1e-6):
    """J[k, m] = d f(x)_k / d x_m by centered differences (as in notebook 5)."""
    columns = []
    for m in range(x.size):
        step = np.zeros_like(x)
        step[m] = h
        columns.append((f(x + step) - f(x - step)) / (2 * h))
    return np.stack(columns, axis=1)


W = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.0]])  # (M, K) = (3, 2)
b = np.array([0.1, -0.2])
x = np.array([2.0, -1.0, 0.5])  # one example, (M,)
J = numerical_jacobian(lambda v: v @ W + b, x)
print("dz/dx (numerical) =\n", J.round(6))
print("W^T =\n", W.T)

# %% [markdown]
# ## 6.2 One example: $\partial E / \partial W$, one element first
#
# $W$ is a matrix, so "the Jacobian $\partial z / \partial W$" would be a $K \times M \times K$ array. Do not
# build it: go straight for one element of the gradient. Weight $W_{mk}$ appears only in $z_k$, with
# coefficient $x_m$:
#
# $$\frac{\partial E}{\partial W_{mk}} = \sum_j \frac{\partial E}{\partial z_j} \frac{\partial z_j}{\partial
# W_{mk}} = \frac{\partial E}{\partial z_k}\, x_m.$$
#
# Every pair $(m, k)$ is a product of one input and one upstream element: an outer product,
#
# $$\frac{\partial E}{\partial W} = x^T\, \frac{\partial E}{\partial z}: \quad (M \times K) = (M \times 1)(1
# \times K).$$
#
# And the bias: $\partial z_k / \partial b_k = 1$, so $\partial E/\partial b = \partial E/\partial z$.
#
# ## 6.3 A batch of $N$ examples
#
# Stacking $N$ rows, $z_{nk} = \sum_m x_{nm} W_{mk} + b_k$. Each row of $x$ affects only its own row of $z$,
# so $\partial E/\partial x$ is computed row by row, which in matrix form is the same formula. But every row
# uses the same $W$ and $b$: a weight's gradient is the **sum over the batch** of what each example sends
# (gradients add at a fork, notebook 3):
#
# | gradient | one element | matrix form | dimensions |
# |---|---|---|---|
# | $\partial E/\partial x$ | $\sum_k \frac{\partial E}{\partial z_{nk}} W_{mk}$ | $\frac{\partial E}{\partial z} W^T$ | $(N \times M) = (N \times K)(K \times M)$ |
# | $\partial E/\partial W$ | $\sum_n x_{nm} \frac{\partial E}{\partial z_{nk}}$ | $x^T \frac{\partial E}{\partial z}$ | $(M \times K) = (M \times N)(N \times K)$ |
# | $\partial E/\partial b$ | $\sum_n \frac{\partial E}{\partial z_{nk}}$ | $\frac{\partial E}{\partial z}$ summed over rows | $(K) $ |
#
# **Dimension analysis** gives the same formulas with no calculus at all: $\partial E / \partial W$ must have
# $W$'s shape $(M \times K)$, and the only way to make an $(M \times K)$ matrix from $x$ $(N \times M)$ and
# $\partial E/\partial z$ $(N \times K)$ is $x^T \frac{\partial E}{\partial z}$. Use it to check every
# derivation, never instead of one: it cannot tell $W$ from $W^T$ when $M = K$.
#
# The element formulas, as loops, on a small batch. This is slow, obviously right code; your exercise is the
# fast matrix form.

# %%
rng = np.random.default_rng(0)
N, M, K = 4, 3, 2
x = rng.integers(-3, 4, size=(N, M)).astype(float)
W = rng.integers(-2, 3, size=(M, K)).astype(float)
b = np.array([0.5, -1.0])
dz = rng.integers(-2, 3, size=(N, K)).astype(float)  # an upstream gradient dE/dz

dx_loops = np.zeros((N, M))
dW_loops = np.zeros((M, K))
db_loops = np.zeros(K)
for n in range(N):
    for m in range(M):
        for k in range(K):
            dx_loops[n, m] += dz[n, k] * W[m, k]  # dE/dx_nm = sum_k dE/dz_nk W_mk
            dW_loops[m, k] += x[n, m] * dz[n, k]  # dE/dW_mk = sum_n x_nm dE/dz_nk
for n in range(N):
    db_loops += dz[n]  # dE/db_k = sum_n dE/dz_nk
print("dE/dW from the element formula =\n", dW_loops)
print("dE/db =", db_loops)

# %% [markdown]
# ## 6.4 Exercise: the linear layer's backward
#
# **Exercise 15.** Write `linear_backward(dz, cache)` in `backprop_lib/layers.py`. The cache is `(x, W)`;
# return `(dx, dW, db)` with shapes $(N, M)$, $(M, K)$ and $(K,)$, in that order. No loops: one matrix product
# per gradient and a sum for the bias.

# %%
_, cache = linear_forward(x, W, b)
dx, dW, db = linear_backward(dz, cache)
print("your dW =\n", dW)
print("your db =", db)
print("match the element formulas:", np.allclose(dx, dx_loops), np.allclose(dW, dW_loops), np.allclose(db, db_loops))

# %%
backprop_lib.check("linear_backward")

# %% nbgrader={"grade": true, "grade_id": "linear_backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Test: linear_backward (autograded; do not edit)
result = checked("linear_backward")
assert result.passed, result.report()

# %% [markdown]
# ### Explore the shapes: the linear-layer Jacobian explorer
#
# Heatmaps of $x$, $W$, $\partial E/\partial z$, $\partial E/\partial x = \partial E/\partial z\, W^T$ and
# $\partial E/\partial W = x^T \partial E/\partial z$ with their shapes written on them. Pick one element
# of a gradient to see its single-element formula and the row and column it combines.

# %% tags=["illustration"]
linear_jacobian()

# %% [markdown]
# ## 6.5 The course's tips, for any layer
#
# 1. **Derive the upstream gradient directly.** You need $\partial E/\partial x$, a vector or matrix of
#    $x$'s shape, not the Jacobian $\partial z/\partial x$ as an object. Go from $\partial E/\partial z$ to
#    $\partial E/\partial x$ in one step.
# 2. **Write one element of the Jacobian first.** $\partial z_k / \partial x_m = W_{mk}$ is easy; the
#    matrix form follows by recognising the sum.
# 3. **Keep indexing consistent.** Rows of $x$ and $z$ are examples $n$; $W_{mk}$ connects input $m$ to
#    output $k$. Write every sum with the same letters.
# 4. **Check dimensions.** Every gradient has exactly its variable's shape; a product that does not fit is a
#    wrong formula (and a product that fits may still be transposed: check numerically).
#
# They turn a new layer into a routine derivation. Try one: for $z = x \odot w$ (elementwise, $w$ of shape
# $(M,)$ shared by all rows), one element gives $\partial E / \partial w_m = \sum_n \frac{\partial E}{\partial
# z_{nm}} x_{nm}$, which is a multiply gate with a broadcast input (notebook 2's `sum_to_shape`).
#
# ## Recap
#
# - $z = xW + b$: $\partial E/\partial x = \partial E/\partial z\, W^T$, $\partial E/\partial W = x^T\,
#   \partial E/\partial z$, $\partial E/\partial b = \sum_n \partial E/\partial z_n$.
# - Derive one element, then recognise the matrix product; confirm with dimensions:
#   $(N \times M) = (N \times K)(K \times M)$ and $(M \times K) = (M \times N)(N \times K)$.
# - Parameters shared across the batch collect a **sum** of per-example gradients.
#
# **Next:** notebook 7 assembles your gates into a network and trains it with your backward passes.
