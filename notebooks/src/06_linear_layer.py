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
# 5. write a residual block's backward from the pieces you have, and explain with $I + J$ what the skip path
#    does to gradients;
# 6. apply the course's general tips to any new layer.
#
# Course notation: a batch of $N$ row vectors $x$ of shape $(N \times M)$, weights $W$ $(M \times K)$, bias
# $b$ $(K)$, output $z = xW + b$ of shape $(N \times K)$.

# %%
import numpy as np

import backprop_lib
from backprop_lib.gradient_check import numerical_gradient
from backprop_lib.kit.notebook import checked, setup
from backprop_lib.layers import linear_backward, linear_forward, residual_backward, residual_forward

setup()  # autoreload (the files you save are used, no restart) and one-line messages for stubs

# %% [markdown]
# ## 6.1 One example: $\partial z / \partial x$, one element first
#
# For one row vector $x$ $(1 \times M)$: $z = xW + b$ has $K$ elements,
#
# $$z_k = \sum_{m=1}^{M} x_m W_{mk} + b_k.$$
#
# Derive the Jacobian one element at a time, on paper:
#
# 1. **One element.** In the sum for $z_k$, which term contains $x_m$? So what is
#    $\dfrac{\partial z_k}{\partial x_m}$?
# 2. **The whole Jacobian.** In the layout of notebook 5 (rows are outputs $k$, columns are inputs $m$) it is
#    a $K \times M$ matrix. Fill in its element $(k, m)$ with your answer: which matrix made from $W$ is that?
# 3. **Upstream × local.** The chain rule of notebook 5 says $\frac{\partial E}{\partial x} =
#    \frac{\partial E}{\partial z}\, J$. Check the shapes: $(1 \times M) = (1 \times K)(K \times M)$.
#
# Then test step 2 numerically on a small layer, $M = 3$ inputs and $K = 2$ outputs: compare the
# centered-difference Jacobian (built with your `numerical_gradient` of notebook 1, one row per output, as in
# notebook 5) with $W$ printed under it.


# %% tags=["illustration"]
def numerical_jacobian(f, x):
    """J[k, m] = d f(x)_k / d x_m: row k by your numerical_gradient (as in notebook 5)."""
    return np.stack([numerical_gradient(lambda v, k=k: float(f(v)[k]), x.copy()) for k in range(np.size(f(x)))])


W = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.0]])  # (M, K) = (3, 2)
b = np.array([0.1, -0.2])
x = np.array([2.0, -1.0, 0.5])  # one example, (M,)
J = numerical_jacobian(lambda v: v @ W + b, x)
print("dz/dx (numerical), K x M =\n", J.round(6))
print("W, M x K =\n", W)

# %% [markdown]
# ## 6.2 One example: $\partial E / \partial W$, one element first
#
# $W$ is a matrix, so "the Jacobian $\partial z / \partial W$" would be a $K \times M \times K$ array. Do not
# build it: go straight for one element of the *gradient*.
#
# 1. **One element.** Weight $W_{mk}$ appears in only one element of $z$. Which one, and with which
#    coefficient?
# 2. **Upstream × local.** $\dfrac{\partial E}{\partial W_{mk}} = \sum_j \dfrac{\partial E}{\partial z_j}
#    \dfrac{\partial z_j}{\partial W_{mk}}$: which terms of this sum are not zero?
# 3. **The matrix form.** Every element $(m, k)$ is then a product of one element of $x$ and one element of
#    $\partial E/\partial z$. Which product of $x$ and $\partial E / \partial z$ (transposed or not) makes all
#    $M \times K$ of them at once?
# 4. **The bias.** What is $\partial z_k / \partial b_j$?
#
# ## 6.3 A batch of $N$ examples
#
# Stacking $N$ rows, $z_{nk} = \sum_m x_{nm} W_{mk} + b_k$. Each row of $x$ affects only its own row of $z$.
# But every row uses the same $W$ and $b$: the weights are used $N$ times, a fork (notebook 3). What do forks
# do to gradients, and what does that make of your one-example formulas for $\partial E / \partial W$ and
# $\partial E / \partial b$?
#
# | gradient | its shape | one element (yours) | matrix form (yours) |
# |---|---|---|---|
# | $\partial E/\partial x$ | $(N \times M)$, like $x$ | ? | ? |
# | $\partial E/\partial W$ | $(M \times K)$, like $W$ | ? | ? |
# | $\partial E/\partial b$ | $(K)$, like $b$ | ? | ? |
#
# **Dimension analysis** checks a derivation without any calculus: $\partial E / \partial W$ must have $W$'s
# shape $(M \times K)$, and $x$ is $(N \times M)$, $\partial E/\partial z$ is $(N \times K)$: does your matrix
# form multiply to that shape? Use it to check every derivation, never instead of one: when $M = K$ it cannot
# tell $W$ from its transpose.
#
# The numbers your formulas must give, on a small batch with an upstream gradient $\partial E/\partial z$ =
# `dz`: here $E = \sum_{n,k} \texttt{dz}_{nk} z_{nk}$, so its gradients can be measured by centered
# differences, one element at a time, without any formula: with your `numerical_gradient` of notebook 1.

# %%
rng = np.random.default_rng(0)
N, M, K = 4, 3, 2
x = rng.integers(-3, 4, size=(N, M)).astype(float)
W = rng.integers(-2, 3, size=(M, K)).astype(float)
b = np.array([0.5, -1.0])
dz = rng.integers(-2, 3, size=(N, K)).astype(float)  # an upstream gradient dE/dz


# %% tags=["illustration"]
def centered_differences():
    """dE/dx, dE/dW and dE/db of E = sum(dz * (xW + b)), measured by your numerical_gradient (notebook 1)."""
    return (
        numerical_gradient(lambda v: float(np.sum(dz * (v @ W + b))), x.copy()),
        numerical_gradient(lambda v: float(np.sum(dz * (x @ v + b))), W.copy()),
        numerical_gradient(lambda v: float(np.sum(dz * (x @ W + v))), b.copy()),
    )


dx_numeric, dW_numeric, db_numeric = centered_differences()
print("dE/dW by centered differences =\n", dW_numeric.round(6))
print("dE/db by centered differences =", db_numeric.round(6))

# %% [markdown]
# ## 6.4 Exercise: the linear layer's backward
#
# **Exercise 17.** Write `linear_backward(dz, cache)` in `backprop_lib/layers.py`, from the formulas you
# derived above. The cache is `(x, W, b)`; return `(dx, dW, db)`, each the shape of its input, in that order.
# No loops: one matrix product per gradient and a sum for the bias. Stuck? `backprop_lib.hint("linear_backward")`
# shows the next rung of its hint ladder (a nudge first, the formula only last).

# %%
_, cache = linear_forward(x, W, b)
dx, dW, db = linear_backward(dz, cache)
print("your dW =\n", dW)
print("your db =", db)

# %% tags=["illustration"]
pairs = zip(linear_backward(dz, cache), centered_differences(), strict=True)
print(
    "match centered differences (dx, dW, db):", [bool(np.allclose(mine, numeric, atol=1e-6)) for mine, numeric in pairs]
)

# %%
backprop_lib.check("linear_backward")

# %% nbgrader={"grade": true, "grade_id": "linear_backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Test: linear_backward (autograded; do not edit)
result = checked("linear_backward")
assert result.passed, result.report()

# %% [markdown]
# ### Explore the shapes: the linear-layer Jacobian explorer
#
# Heatmaps of $x$, $W$, $\partial E/\partial z$ and the two gradients your `linear_backward` returns, with
# their shapes written on them. Pick one element of a gradient to see the row and column it combines, and
# compare with the one-element formulas you derived.

# %% tags=["illustration"]
from backprop_lib.kit.widgets import linear_jacobian

linear_jacobian()

# %% [markdown]
# ## 6.5 A residual block
#
# A residual block adds a layer's output to its own input: $\text{out} = h + \mathrm{relu}(hW + b)$, with $W$
# square $(M \times M)$ so the shapes match. `residual_forward(h, W, b)` is given in `backprop_lib/layers.py`;
# its cache holds the linear layer's cache and the ReLU's cache ($z = hW + b$), so you may call your own
# `linear_backward` and `relu_backward`.
#
# 1. **Two paths.** $h$ reaches `out` twice: directly (the skip), and through the branch linear, then ReLU.
#    What does the chain rule do where a value is used twice (notebook 3, forks)?
# 2. **Local derivatives.** What is $\partial\,\text{out} / \partial h$ along the skip path alone? Along the
#    branch, which two backward passes you already wrote does the gradient go through, in which order?
# 3. **Shapes.** $dh$ $(N, M)$, $dW$ $(M, M)$, $db$ $(M,)$: which of them get a contribution from the skip path?
#
# **Exercise 18.** Write `residual_backward(dout, cache)`, returning `(dh, dW, db)`, in
# `backprop_lib/layers.py`. Stuck? `backprop_lib.hint("residual_backward")`.

# %%
h_block = np.array([[1.0, -1.0]])
out_block, block_cache = residual_forward(h_block, np.eye(2), np.array([0.5, 0.5]))
dh_block, dW_block, db_block = residual_backward(np.array([[1.0, 1.0]]), block_cache)
print("out =", out_block, "  dh =", dh_block, "  dW =", dW_block.tolist(), "  db =", db_block)

# %%
backprop_lib.check("residual_backward")

# %% nbgrader={"grade": true, "grade_id": "residual_backward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Test: residual_backward (autograded; do not edit)
result = checked("residual_backward")
assert result.passed, result.report()

# %% [markdown]
# **Why it matters: $I + J$.** Now that you have written it, look at your `dh`: per example, the block's
# Jacobian is $\partial\,\text{out} / \partial h = I + J_{\text{branch}}$, where $J_{\text{branch}}$ is the
# branch's Jacobian (the part of your `dh` that comes through the linear layer and the ReLU). Through $L$
# blocks the gradient is multiplied by $L$ such factors. A plain stack multiplies $L$ branch Jacobians, whose
# product can shrink towards 0 (vanishing); with the identity added the product contains a term $I$ (the path
# through all the skips), so it does not shrink that way. But it can grow: at a large weight scale the
# factors $I + J$ enlarge the gradient and the product explodes (notebook 4's depth widget at He's scale
# shows about $10^{10}$ at depth 50). Remedies: initialise or scale the branch small, normalise (batch or layer
# normalisation), clip gradients.
#
# ## 6.6 The course's tips, for any layer
#
# 1. **Derive the upstream gradient directly.** You need $\partial E/\partial x$, a vector or matrix of
#    $x$'s shape, not the Jacobian $\partial z/\partial x$ as an object. Go from $\partial E/\partial z$ to
#    $\partial E/\partial x$ in one step.
# 2. **Write one element of the Jacobian first.** One element is a one-line derivative; the matrix form
#    follows by recognising the sum.
# 3. **Keep indexing consistent.** Rows of $x$ and $z$ are examples $n$; $W_{mk}$ connects input $m$ to
#    output $k$. Write every sum with the same letters.
# 4. **Check dimensions.** Every gradient has exactly its variable's shape; a product that does not fit is a
#    wrong formula (and a product that fits may still be transposed: check numerically).
#
# They turn a new layer into a routine derivation. Try one: for $z = x \odot w$ (elementwise, $w$ of shape
# $(M,)$ shared by all rows), what is $\partial E / \partial w_m$? Which gate of notebook 2 is this, and what
# does `sum_to_shape` have to do with the sum over the batch?
#
# ## Recap
#
# - For $z = xW + b$: derive one element, then recognise the matrix product; confirm with dimensions (every
#   gradient has its variable's shape) and with centered differences (a transposed formula can fit the
#   shapes).
# - Parameters shared across the batch are a fork: they collect a **sum** of per-example gradients.
# - A residual block is a fork too: the skip path and the branch both reach the output, and its Jacobian is
#   $I + J$: no vanishing through the skips, but large branches make gradients explode.
#
# **Next:** notebook 7 assembles your gates into a network and trains it with your backward passes.

# %% [markdown]
# ## Notation: the lecture and this course
#
# The lecture and the kit use a few letters differently. When you read the lecture's slides next to these
# notebooks:
#
# | what | the lecture | this course |
# |---|---|---|
# | the scalar error (loss) | $e$ for one example (notebook 1 keeps it) | $E$, of one example or of a batch |
# | number of examples in a batch | (one example at a time) | $N$: `x` is $(N \times M)$ |
# | inputs of a layer | $M$ | $M$ |
# | outputs of a layer | $N$ | $K$: $W$ is $(M \times K)$, $z$ is $(N \times K)$ |
# | vectors | columns in the toy networks ($w^T x$) | rows: $z = xW + b$ |
# | Jacobian layout | rows outputs, columns inputs | the same: $J_{km} = \partial y_k / \partial x_m$ |
#
# So where the lecture writes a layer's output size as $N$, read $K$ here; the course's $N$ is always the
# batch size.
#
# ## Further reading
#
# - CS231n (Stanford), *Backpropagation, Intuitions*: <https://cs231n.github.io/optimization-2/>, the gate
#   patterns and staged backward passes; and its assignments' `layers.py`, which state each layer's contract
#   and leave the gradient to you.
# - Justin Johnson, *Backpropagation for a Linear Layer*: <https://cs231n.stanford.edu/handouts/linear-backprop.pdf>,
#   the batched Jacobian of $z = xW$ written out element by element, the derivation of 6.1 to 6.3 in full; and
#   *Derivatives, Backpropagation, and Vectorization*: <https://cs231n.stanford.edu/handouts/derivatives.pdf>.
# - Andrej Karpathy, *The spelled-out intro to neural networks and backpropagation: building micrograd*
#   (video lecture) and <https://github.com/karpathy/micrograd>: a scalar engine like notebook 4's in about 100
#   lines.
