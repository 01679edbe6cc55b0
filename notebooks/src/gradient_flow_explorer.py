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
# # Gradient flow explorer
#
# Six small instruments for *seeing* backpropagation: values flowing forward, gradients flowing back, and
# what breaks them. Run the cells one by one (or **Run All**) and move the controls.
#
# - **Colours.** As in the course's circuit diagrams, a forward **value** is written in **green above** its
#   edge and a **gradient** $\partial E/\partial(\cdot)$ in **red below** it.
# - **Your library.** Every widget computes with `backprop_lib`: its graph engine and *your* backward
#   functions. A backward you have not written yet shows one red line saying which function to write in
#   which file; write it, save the file, and run the cell again. Like every notebook of the course, this one
#   turns on IPython's `autoreload` in its first cell (`setup()`), so the saved file is used without a kernel
#   restart.
# - **The reference solutions.** In a reference view (`backprop-kit workspace --reference DIR`, then
#   `backprop-kit lab DIR`, from a clone of the kit) every widget runs on the reference solutions: a way to
#   compare your numbers with the reference ones.
# - **A picture to keep.** Each function takes `static=True` and then returns a matplotlib `Figure`
#   (`fig.savefig("flow.png")`) instead of a widget.

# %%
from backprop_lib.graph import Node
from backprop_lib.kit.notebook import setup
from backprop_lib.kit.widgets import (
    dead_relu,
    depth_flow,
    gate_explorer,
    graph_viewer,
    linear_jacobian,
    sigmoid_saturation,
)

setup()  # autoreload (the files you save are used, no restart) and one-line messages for stubs

# %% [markdown]
# ## 1. A computation graph, one gate at a time
#
# The course's sigmoid neuron $f(w, x) = 1/(1 + e^{-(w_0 x_0 + w_1 x_1 + w_2)})$ at $w = (2, -3, -3)$,
# $x = (-1, -2)$. Step 0 shows the forward pass ($f = 0.73$). Each further step runs one gate backward, in
# reverse topological order: the gate's **local gradient × upstream gradient** goes to each of its inputs.
# The viewer writes 3 significant figures: find $-0.534$ after the $1/x$ gate, $-0.197$ after $\exp$ and
# $0.197$ after $*\,{-1}$ (the lecture's $-0.53$, $-0.20$, $0.20$). Press ▶ to play it.

# %%
graph_viewer(step=0)

# %% [markdown]
# The viewer draws any graph you build with `Node`, naming the gates you did not label v1, v2, ... Here $x$
# is used twice, so its gradient is the **sum** of what the two paths send back (the red "sum" left of it).
# It orders the gates with your `topological_sort` (notebook 4); until you have written it, pass an order of
# your own: `graph_viewer(g, order=[x, y, ...])`, parents before children.

# %%
x, y = Node(3.0, "x"), Node(-2.0, "y")
g = (x * y + x).sigmoid()
g.label = "g"
graph_viewer(g)

# %% [markdown]
# ## 2. Gate patterns: distribute, switch, route
#
# Pick a gate and move its inputs $a$, $b$ and the upstream gradient $\partial E/\partial out$. The bars are
# what your `add_backward`, `multiply_backward` and `maximum_backward` (notebooks 2 and 3) return. Predict
# before you move a slider:
#
# - **add:** does $\partial E/\partial a$ change when you move $a$? When you move $b$? When you move the
#   upstream gradient?
# - **multiply:** which input's value does $\partial E/\partial a$ follow?
# - **max:** which input receives the upstream gradient, and what happens when $a$ and $b$ swap order, or tie?
#
# Once your gate agrees with what nudging its inputs gives, the line under the picture names its pattern.

# %%
gate_explorer()

# %% [markdown]
# ## 3. Sigmoid saturation
#
# The sigmoid's local gradient $\sigma'(x)$ (your `sigmoid_backward`, notebook 2) is at most $0.25$, and close
# to 0 once $|x| > 5$. Backprop multiplies one local gradient per layer, so through $n$ stacked sigmoids the
# gradient is at most $0.25^n$ of what arrived at the top. ReLUs that are on pass it unchanged. It starts at
# $x = 2$: about $2 \times 10^{-4}$ through 5 sigmoids, 1 through 5 ReLUs. Move $x$ into the saturated zone,
# then raise the number of layers; then move $x$ below 0, where every ReLU is off.

# %%
sigmoid_saturation()

# %% [markdown]
# ## 4. Dead ReLUs on real inputs
#
# A layer of 32 ReLU units on the 1797 handwritten digits that ship with scikit-learn. A unit whose
# pre-activation $z = xW + b$ is negative on **every** input never fires, so no gradient reaches its
# weights: it is dead. In this first layer, whose inputs are the fixed data, plain SGD never revives it (a
# unit of a deeper layer can come back when the layers below change). Shift every bias down, or take one
# gradient step with a too-large learning rate, and watch the fraction of dead units.

# %%
dead_relu()

# %% [markdown]
# ## 5. The linear layer's gradients, one element at a time
#
# For $z = xW + b$, the two gradients your `linear_backward` (notebook 6) returns, as heatmaps whose titles
# carry the shapes (dimension analysis). Once your `linear_backward` runs, pick one element: the widget frames
# the row and column it is made of, writes out its sum, and checks it against your function. (Until then it
# shows the shapes only: the formulas are the exercise.)

# %%
linear_jacobian()

# %% [markdown]
# ## 6. Gradient flow through depth
#
# Per-layer gradient norms $\|\partial E/\partial h_l\|$ for a plain ReLU network and a residual one
# ($h \leftarrow h + \mathrm{relu}(hW + b)$), with a gradient of norm 1 arriving at the top. In the plain
# net every layer multiplies the gradient by its Jacobian $J$, so it vanishes (small weights) or explodes
# (large weights) geometrically with depth. A residual block's Jacobian is $I + J$: the identity path keeps
# the gradient from vanishing, but every block enlarges it a little (with large branches, a lot), and through
# enough blocks it explodes. At the default (20 layers, weight scale 0.5) the plain net's gradient vanishes and
# the residual one's holds; at 50 layers the residual one explodes even at this scale; at He's scale
# $\sqrt{2} \approx 1.41$ the plain net is steady and the residual one explodes. The remedies deep networks
# use: initialisation and scaling of the branches, normalisation layers, gradient clipping.

# %%
depth_flow()

# %% [markdown]
# ## What to try next
#
# - Build the gate-pattern circuit $f = 2\,(x y + \max(z, w))$ at $x = 3, y = -4, z = 2, w = -1$ and check
#   $-8, 6, 2, 0$ in `graph_viewer`.
# - In `dead_relu`, find the smallest bias shift that kills half of the units.
# - In `depth_flow`, find the weight scale at which the plain network's gradient neither vanishes nor
#   explodes through 50 layers.
