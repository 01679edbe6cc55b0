"""What the notebooks' text says about the kit, checked against the kit: caches, shapes, and quoted values.

A notebook's sentence such as "The cache is `(x, W, b)`" is a claim about the
given forward; a student who follows a wrong one gets an error the text caused.
Each claim below is quoted exactly as the notebook source writes it (markdown,
whitespace normalised) and checked against what the library does:

- caches: every sentence that says what a forward caches ("the cache is",
  "caches its", "cache holds") is listed, and the cache it names is the one
  the forward returns; the forwards' docstrings say the same;
- shapes: every shape the text writes is that of the reference's arrays (a
  layer's inputs, output and gradients, a derivation's factors), or is listed
  as the text's own maths (a single row vector, a question on paper);
- values: the widget defaults, sizes and figures the text quotes are the
  widgets', and the check's and the stubs' parameters are theirs.
"""

import importlib
import inspect
import re

import jupytext
import numpy as np
import pytest
from conftest import REPO

from backprop_lib.kit.exercises import softmax as softmax_check
from backprop_lib.kit.operations import OPERATIONS

# The widget modules (the package's names of the same spelling are the widget functions).
depth_flow, dead_relu, sigmoid_saturation = (
    importlib.import_module(f"backprop_lib.kit.widgets.{name}")
    for name in ("depth_flow", "dead_relu", "sigmoid_saturation")
)
SOURCES = REPO / "notebooks" / "src"
CACHE_SENTENCE = re.compile(r"[Tt]he cache is|caches its|cache holds")


def markdown(stem):
    """A notebook source's markdown cells, whitespace normalised to single spaces."""
    cells = jupytext.read(SOURCES / f"{stem}.py").cells
    return " ".join(" ".join(cell.source.split()) for cell in cells if cell.cell_type == "markdown")


def stems():
    return sorted(path.stem for path in SOURCES.glob("*.py"))


def softmax(s):
    return np.exp(s - np.logaddexp.reduce(s, axis=-1, keepdims=True))


def sample(name):
    """Inputs and constants for operation ``name``, sized N = 4, M = 5, K = 3 and the like (every size distinct)."""
    rng = np.random.default_rng(0)
    a, b, x = rng.normal(size=(3, 4)), rng.normal(size=4), rng.uniform(0.5, 2.0, size=3)
    samples = {
        "add": [a, b],
        "subtract": [a, b],
        "multiply": [a, b],
        "maximum": [a, b],
        "reciprocal": [x],
        "log": [x],
        "add_constant": [x, 2.5],
        "scale": [x, 2.5],
        "power": [x, 3],
        "negate": [x],
        "exp": [x],
        "sigmoid": [x],
        "relu": [x - 1.0],
        "softmax": [rng.normal(size=(2, 3))],
        "linear": [rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)],
        "residual": [rng.normal(size=(4, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)],
        "mse": [rng.normal(size=(4, 2)), rng.normal(size=(4, 2))],
        "softmax_cross_entropy": [rng.normal(size=(4, 3)), np.array([0, 2, 1, 0])],
        "two_layer_net": [
            *(rng.normal(size=shape) for shape in ((4, 5), (5, 6), (6,), (6, 3), (3,))),
            np.array([0, 2, 1, 0]),
            0.1,
        ],
    }
    return samples[name]


# Caches: what each given forward keeps, as the course writes it, and what that means for the inputs.

CACHES = {
    "add": ("the input shapes", lambda a, b, out: (a.shape, b.shape)),
    "subtract": ("the input shapes", lambda a, b, out: (a.shape, b.shape)),
    "multiply": ("(a, b)", lambda a, b, out: (a, b)),
    "maximum": ("(a, b)", lambda a, b, out: (a, b)),
    "reciprocal": ("x", lambda x, out: x),
    "log": ("x", lambda x, out: x),
    "add_constant": ("nothing", lambda x, c, out: None),
    "scale": ("c", lambda x, c, out: c),
    "power": ("(x, p)", lambda x, p, out: (x, p)),
    "negate": ("nothing", lambda x, out: None),
    "exp": ("out", lambda x, out: out),
    "sigmoid": ("(x, out)", lambda x, out: (x, out)),
    "relu": ("x", lambda x, out: x),
    "softmax": ("p", lambda s, out: softmax(s)),
    "linear": ("(x, W, b)", lambda x, W, b, out: (x, W, b)),
    "residual": ("(linear_cache, relu_cache)", lambda h, W, b, out: ((h, W, b), h @ W + b)),
    "mse": ("(pred - target, N)", lambda pred, target, out: (pred - target, len(pred))),
    "softmax_cross_entropy": ("(probs, labels)", lambda logits, labels, out: (softmax(logits), labels)),
}

CACHE_CLAIMS = [
    ("02_computation_graphs", "The cache is the forward input `x`", "reciprocal", "x"),
    ("02_computation_graphs", "`exp_forward` caches its *output*, not its input", "exp", "out"),
    ("02_computation_graphs", "(the cache is `c`)", "scale", "c"),
    ("02_computation_graphs", "The cache is `(x, out)`", "sigmoid", "(x, out)"),
    ("03_gate_patterns", "(the cache is `(a, b)`)", "maximum", "(a, b)"),
    ("05_jacobians_relu", "The cache is the forward *input* `x`", "relu", "x"),
    ("05_jacobians_relu", "(the cache is $p$, shape $(N, K)$)", "softmax", "p"),
    ("06_linear_layer", "The cache is `(x, W, b)`", "linear", "(x, W, b)"),
    (
        "06_linear_layer",
        "its cache holds the linear layer's cache and the ReLU's cache ($z = hW + b$)",
        "residual",
        "(linear_cache, relu_cache)",
    ),
    ("07_capstone", "(the cache is `(pred - target, N)`)", "mse", "(pred - target, N)"),
    ("07_capstone", "cache is `(probs, labels)`", "softmax_cross_entropy", "(probs, labels)"),
]
"""(notebook, the sentence as written, operation, the cache it names in CACHES' words)."""


def same(expected, got):
    """Deep equality of caches: tuples element by element, arrays by value, shapes and numbers exactly."""
    if isinstance(expected, tuple) and not all(isinstance(e, int) for e in expected):
        return isinstance(got, tuple) and len(got) == len(expected) and all(map(same, expected, got))
    if isinstance(expected, np.ndarray):
        return isinstance(got, np.ndarray) and got.shape == expected.shape and np.allclose(got, expected)
    return expected == got


@pytest.mark.parametrize("name", sorted(CACHES))
def test_each_given_forward_keeps_the_cache_the_course_names(name):
    inputs = sample(name)
    out, cache = OPERATIONS[name].forward(*inputs)
    assert same(CACHES[name][1](*inputs, out), cache), f"{name}_forward's cache is not {CACHES[name][0]}"


@pytest.mark.parametrize("name", sorted(CACHES))
def test_each_forwards_docstring_names_its_cache_as_the_course_does(name):
    doc = " ".join(inspect.getdoc(OPERATIONS[name].function("forward")).split())
    assert f"Cache: {CACHES[name][0]}" in doc, doc


@pytest.mark.parametrize(("stem", "quote", "name", "says"), CACHE_CLAIMS, ids=lambda v: str(v)[:40])
def test_every_cache_sentence_in_the_notebooks_names_the_real_cache(stem, quote, name, says):
    assert quote in markdown(stem), f"{stem} no longer says: {quote}"
    assert says == CACHES[name][0], f"{stem} says {name}_forward caches {says}, it caches {CACHES[name][0]}"
    written = re.search(r"`([^`]+)`\)?$|\$([^$]+)\$,", quote)
    if written and not quote.startswith("`"):
        assert (written[1] or written[2]) == says, f"{stem}: the code in {quote!r} is not {says}"


@pytest.mark.parametrize("stem", stems())
def test_every_cache_sentence_is_checked(stem):
    found = len(CACHE_SENTENCE.findall(markdown(stem)))
    listed = sum(claim_stem == stem for claim_stem, *_ in CACHE_CLAIMS)
    assert found == listed, f"{stem} has {found} sentences about a cache, {listed} of them in CACHE_CLAIMS"


# Shapes: (notebook, text, source, {array: its letters}); a source gives the reference's arrays by name (for an
# operation: its inputs, its output "out", the upstream "dout" and the backward's gradients "d" + input) and the
# size of each letter. Every shape the notebooks' text writes is in a claim, or in SHAPES_IN_THE_MATHS.

SIZES = {
    "linear": {"N": 4, "M": 5, "K": 3},
    "residual": {"N": 4, "M": 3},
    "softmax": {"N": 2, "K": 3},
    "mse": {"N": 4, "K": 2},
    "softmax_cross_entropy": {"N": 4, "C": 3},
    "two_layer_net": {"N": 4, "D": 5, "H": 6, "C": 3},
    "squared_error_factors": {"M": 5},
    "logistic_factors": {"M": 5},
    "softmax_jacobian": {"K": 4},
}
SHAPE_CLAIMS = [
    (
        "01_chain_rule",
        "both are `x @ w` with `x` and `w` of shape `(M,)`",
        "squared_error_factors",
        {"x": "M", "w1": "M"},
    ),
    (
        "01_chain_rule",
        "1. $\\dfrac{\\partial h_1}{\\partial w_1}$, shape $(M,)$: how $h_1$ moves with each weight; 2. "
        "$\\dfrac{\\partial e}{\\partial h_1}$, a number: the upstream gradient of the error; 3. "
        "$\\dfrac{\\partial e}{\\partial w_1} = \\dfrac{\\partial e}{\\partial h_1} \\cdot "
        "\\dfrac{\\partial h_1}{\\partial w_1}$, shape $(M,)$.",
        "squared_error_factors",
        {"dh1_dw1": "M", "de_dh1": "", "de_dw1": "M"},
    ),
    (
        "01_chain_rule",
        "$\\partial h_1 / \\partial w_1$ (shape $(M,)$), $\\partial h_2 / \\partial h_1$ (a number), "
        "$\\partial e / \\partial h_2$ (a number) and their product $\\partial e / \\partial w_1$ (shape $(M,)$)",
        "logistic_factors",
        {"dh1_dw1": "M", "dh2_dh1": "", "de_dh2": "", "de_dw1": "M"},
    ),
    (
        "06_linear_layer",
        "a batch of $N$ row vectors $x$ of shape $(N \\times M)$, weights $W$ $(M \\times K)$, bias $b$ $(K)$, output "
        "$z = xW + b$ of shape $(N \\times K)$",
        "linear",
        {"x": "NM", "W": "MK", "b": "K", "out": "NK"},
    ),
    (
        "06_linear_layer",
        "| $\\partial E/\\partial x$ | $(N \\times M)$, like $x$ | ? | ? | | $\\partial E/\\partial W$ | "
        "$(M \\times K)$, like $W$ | ? | ? | | $\\partial E/\\partial b$ | $(K)$, like $b$ |",
        "linear",
        {"dx": "NM", "dW": "MK", "db": "K"},
    ),
    (
        "06_linear_layer",
        "$\\partial E / \\partial W$ must have $W$'s shape $(M \\times K)$, and $x$ is $(N \\times M)$, "
        "$\\partial E/\\partial z$ is $(N \\times K)$",
        "linear",
        {"dW": "MK", "W": "MK", "x": "NM", "dout": "NK"},
    ),
    ("06_linear_layer", "$N$: `x` is $(N \\times M)$", "linear", {"x": "NM"}),
    ("06_linear_layer", "$K$: $W$ is $(M \\times K)$, $z$ is $(N \\times K)$", "linear", {"W": "MK", "out": "NK"}),
    ("06_linear_layer", "with $W$ square $(M \\times M)$ so the shapes match", "residual", {"W": "MM", "out": "NM"}),
    ("06_linear_layer", "$dh$ $(N, M)$, $dW$ $(M, M)$, $db$ $(M,)$", "residual", {"dh": "NM", "dW": "MM", "db": "M"}),
    ("05_jacobians_relu", "(the cache is $p$, shape $(N, K)$)", "softmax", {"out": "NK"}),
    (
        "05_jacobians_relu",
        "The backward gets $\\partial E/\\partial p$ $(N \\times K)$ and must return $\\partial E/\\partial s$ "
        "$(N \\times K)$",
        "softmax",
        {"dout": "NK", "ds": "NK"},
    ),
    (
        "05_jacobians_relu",
        "`backprop_lib/activations.py`: one row's $(K, K)$ Jacobian",
        "softmax_jacobian",
        {"J": "KK"},
    ),
    ("07_capstone", "The gradient has the predictions' shape (N, K).", "mse", {"dpred": "NK"}),
    ("07_capstone", "The gradient is (N, C).", "softmax_cross_entropy", {"dlogits": "NC"}),
    ("07_capstone", "for a batch x (N, D), H hidden units and C classes", "two_layer_net", {"x": "ND", "dW1": "DH"}),
    (
        "07_capstone",
        "dx (N, D), dW1 (D, H), db1 (H,), dW2 (H, C), db2 (C,)",
        "two_layer_net",
        {"x": "ND", "dx": "ND", "dW1": "DH", "db1": "H", "dW2": "HC", "db2": "C"},
    ),
]
SHAPES_IN_THE_MATHS = [
    ("01_chain_rule", "for a row vector $x$ of shape $(1 \\times M)$"),
    (
        "05_jacobians_relu",
        "from a row vector $x$ of shape $(1 \\times M)$ to a row vector $y$ of shape $(1 \\times K)$",
    ),
    ("05_jacobians_relu", "for the batch, that number is one value per row, $(N, 1)$"),
    ("05_jacobians_relu", "fails if your backward allocates a $(K, K)$ matrix"),
    ("06_linear_layer", "For one row vector $x$ $(1 \\times M)$"),
    ("06_linear_layer", "Check the shapes: $(1 \\times M) = (1 \\times K)(K \\times M)$"),
    ("06_linear_layer", "for $z = x \\odot w$ (elementwise, $w$ of shape $(M,)$ shared by all rows)"),
]
"""Shapes written in the notebooks' own derivations, questions and exercises-on-paper, not of the kit's arrays (the
softmax memory case's (K, K) is checked with the values below)."""
SHAPE = re.compile(r"\((?:[NMKCDH1](?:\s*(?:\\times|×|,)\s*[NMKCDH1]?)+|[NMKCDH],?)\)")


DERIVATIONS = {
    "squared_error_factors": ("dh1_dw1", "de_dh1", "de_dw1"),
    "logistic_factors": ("dh1_dw1", "dh2_dh1", "de_dh2", "de_dw1"),
}
"""Notebook 1's derivation exercises and the names of the factors they return, in order."""


def arrays_of(source):
    """{array name: array} of the reference for a claim's source (an operation, a derivation, softmax_jacobian)."""
    rng = np.random.default_rng(0)
    if source in DERIVATIONS:
        from backprop_lib import derivations

        x, w1 = rng.normal(size=5), rng.normal(size=5)
        arguments = (x, w1, 1.0) if source == "squared_error_factors" else (x, w1)
        factors = getattr(derivations, source)(*arguments)
        return {"x": x, "w1": w1, **dict(zip(DERIVATIONS[source], factors, strict=True))}
    if source == "softmax_jacobian":
        from backprop_lib.activations import softmax_jacobian

        return {"J": softmax_jacobian(softmax(rng.normal(size=4)))}
    operation, inputs = OPERATIONS[source], sample(source)
    out, cache = operation.forward(*inputs)
    dout = np.ones(np.shape(out))
    grads = operation.backward(dout, cache)
    arrays = dict(zip(operation.inputs, inputs, strict=False)) | {"out": out, "dout": dout}
    return arrays | {f"d{input_name}": grad for input_name, grad in zip(operation.inputs, grads, strict=True)}


@pytest.mark.parametrize(("stem", "quote", "source", "shapes"), SHAPE_CLAIMS, ids=lambda v: str(v)[:40])
def test_the_shapes_the_notebooks_give_are_the_librarys(stem, quote, source, shapes):
    assert quote in markdown(stem), f"{stem} no longer says: {quote}"
    arrays, sizes = arrays_of(source), SIZES[source]
    for array, letters in shapes.items():
        assert np.shape(arrays[array]) == tuple(sizes[letter] for letter in letters), f"{source}: {array}"


@pytest.mark.parametrize("stem", stems())
def test_every_shape_in_the_notebooks_text_is_checked_or_is_the_maths_own(stem):
    text = markdown(stem)
    quoted = [(stem_, quote) for stem_, quote, *_ in SHAPE_CLAIMS] + SHAPES_IN_THE_MATHS
    spans = [(m.start(), m.end()) for s, q in quoted if s == stem for m in re.finditer(re.escape(q), text)]
    loose = [
        text[max(0, m.start() - 50) : m.end()]
        for m in SHAPE.finditer(text)
        if not any(start <= m.start() and m.end() <= end for start, end in spans)
    ]
    assert not loose, f"{stem}: shapes in the text that no test checks against the kit: {loose}"


# Values: what the text quotes of the widgets, the checks and the stubs.


def defaults(function):
    return {name: p.default for name, p in inspect.signature(function).parameters.items()}


def depth_norms(depth, scale):
    return {net: depth_flow.gradient_norms(depth, scale, net == "residual")[0] for net in ("plain", "residual")}


def verdict(norm):
    return "vanished" if norm < 1e-3 else "exploded" if norm > 1e3 else "kept"


DEPTH = defaults(depth_flow.depth_flow)
HE = round(np.sqrt(2), 2)


def test_the_depth_widgets_default_is_the_one_the_text_describes():
    said = f"At the default ({DEPTH['depth']} layers, weight scale {DEPTH['scale']:g})"
    for stem in ("04_backprop_algorithm", "gradient_flow_explorer"):
        assert said in markdown(stem), f"{stem} does not name the depth widget's default: {said}"
    norms = depth_norms(DEPTH["depth"], DEPTH["scale"])
    assert (verdict(norms["plain"]), verdict(norms["residual"])) == ("vanished", "kept")


def test_at_fifty_layers_the_default_scale_makes_the_residual_net_explode_as_the_text_says():
    assert "at 50 layers even this small scale makes the residual network's gradient *explode*" in markdown(
        "04_backprop_algorithm"
    )
    assert "at 50 layers the residual one explodes even at this scale" in markdown("gradient_flow_explorer")
    assert verdict(depth_norms(50, DEPTH["scale"])["residual"]) == "exploded"


def test_at_he_scale_the_plain_net_is_steady_and_fifty_residual_blocks_give_about_1e10():
    said = (
        "He's $\\sqrt 2 \\approx 1.41$: the plain network's gradient holds steady, and fifty residual blocks "
        "multiply the gradient by about $10^{10}$"
    )
    assert said in markdown("04_backprop_algorithm")
    assert "depth widget at He's scale shows about $10^{10}$ at depth 50" in markdown("06_linear_layer")
    assert "at He's scale $\\sqrt{2} \\approx 1.41$ the plain net is steady and the residual one explodes" in markdown(
        "gradient_flow_explorer"
    )
    for depth in (DEPTH["depth"], 50):
        norms = depth_norms(depth, HE)
        factor = depth_flow.per_layer(norms["plain"], depth)
        assert depth_flow.STEADY[0] <= factor <= depth_flow.STEADY[1] and verdict(norms["residual"]) == "exploded"
    assert round(np.log10(depth_norms(50, HE)["residual"])) == 10


def test_the_saturation_widget_starts_where_the_text_says_with_the_numbers_it_quotes():
    start = defaults(sigmoid_saturation.sigmoid_saturation)
    assert (start["x"], start["depth"]) == (2.0, 5)
    said = (
        "The widget starts at $x = 2$ through 5 layers: the gradient through five stacked sigmoids has shrunk "
        "to about $2 \\times 10^{-4}$"
    )
    assert said in markdown("05_jacobians_relu")
    assert "It starts at $x = 2$: about $2 \\times 10^{-4}$ through 5 sigmoids, 1 through 5 ReLUs" in markdown(
        "gradient_flow_explorer"
    )
    sigmoids = sigmoid_saturation.stack_gradients(start["x"], start["depth"], "sigmoid")[-1]
    relus = sigmoid_saturation.stack_gradients(start["x"], start["depth"], "relu")[-1]
    assert f"{sigmoids:.0e}" == "2e-04" and relus == pytest.approx(1.0)


def test_the_dead_relu_widgets_layer_and_data_are_the_ones_the_text_names():
    assert f"a smaller first layer of {dead_relu.UNITS} ReLU units on the same digits" in markdown("05_jacobians_relu")
    x, _ = dead_relu.digits()
    said = f"A layer of {dead_relu.UNITS} ReLU units on the {len(x)} handwritten digits"
    assert said in markdown("gradient_flow_explorer")


def test_the_softmax_memory_case_has_the_classes_the_text_says_and_refuses_a_k_by_k_matrix():
    said = f"the check runs a case with $K = {softmax_check.MEMORY_CASE[1]}$ and fails if your backward allocates a"
    assert said in markdown("05_jacobians_relu")
    n, k = softmax_check.MEMORY_CASE
    assert k * k > softmax_check.MEMORY_FACTOR * n * k, "one (K, K) float64 matrix is more than the check allows"


def test_numerical_gradients_default_step_is_the_one_the_text_quotes():
    from backprop_lib.gradient_check import numerical_gradient

    step = defaults(numerical_gradient)["h"]
    assert step == 1e-5
    assert "Write `numerical_gradient(f, x, h=1e-5)`" in markdown("01_chain_rule")
    assert "$h = 10^{-5}$, your default" in markdown("01_chain_rule")
    assert "nudges $x$ by $h = 10^{-5}$ to each side" in markdown("05_jacobians_relu")
