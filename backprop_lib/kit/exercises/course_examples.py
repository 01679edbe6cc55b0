"""Checks for the graded cells that are not one exercise: the course's worked examples and the capstone.

Each runs the student's library the way its notebook cell does (the gates by
hand, the engine, the network of ``backprop_lib.kit.capstone``) and returns plain
arrays, so the autograder's sandbox can re-check the cell outside the student's
kernel; the judge compares with the checker's own numbers. They are marked
``kind = COURSE_EXAMPLE``: ``backprop-kit exercises`` lists only what a student
writes, while the self-check shows these too.
"""

import numpy as np

from backprop_lib.kit.exercises.base import Case
from backprop_lib.kit.gradcheck import close, numerical_vjp, relative_error
from backprop_lib.kit.results import FAILED, PASSED, CheckResult, Diagnosis
from backprop_lib.kit.worked_examples import (
    CIRCUIT,
    SIGMOID_NEURON,
    circuit_by_gates,
    circuit_through_engine,
    neuron_by_gates,
    neuron_through_engine,
)

COURSE_EXAMPLE = "course example"
KINK_MARGIN = 0.05
EXERCISE_FAILS = Diagnosis(
    "an exercise it uses fails", "run backprop_lib.check() for the exercises the network uses; fix those first"
)


class CourseExample:
    """A graded cell's check: ``cases`` from the course (and a seed), ``run`` the student's code, ``judge`` against
    centered differences of the example's function (``function``: its forward alone)."""

    kind = COURSE_EXAMPLE
    name = module = path = title = ""

    def expected(self, case):
        inputs = self.inputs(case)
        return numerical_vjp(lambda *values: self.function(case, *values), inputs, np.array(1.0))[0][0]

    def judge(self, case, got):
        result = CheckResult(self.name, self.path, FAILED, details=[f"case: {case.note}"])
        expected, labels = self.expected(case), self.labels
        found = got["grads"]
        if close(expected, found):
            result.status, result.details = PASSED, []
            return result
        worst = int(np.argmax(np.abs(found - expected)))
        listed = ", ".join(f"{v:.2f}" for v in found)
        result.summary = f"d/d({', '.join(labels)}) = ({listed})"
        result.details.insert(0, f"expected {labels[worst]}: {expected[worst]:.4g}, got {found[worst]:.4g}")
        return result


class SigmoidNeuronExample(CourseExample):
    """Notebook 2: the sigmoid neuron, backward gate by gate with the student's gates."""

    name, module, path = "sigmoid_neuron_example", "gates", "backprop_lib/gates.py"
    title = "course example: the sigmoid neuron with your gates"
    labels = ("w0", "w1", "w2", "x0", "x1")

    def cases(self, seed):
        rng = np.random.default_rng(seed)
        course = Case({key: np.array(value) for key, value in SIGMOID_NEURON.items()}, "the course's neuron")
        return [course, Case({"w": rng.uniform(-2, 2, 3), "x": rng.uniform(-2, 2, 2)}, "a neuron from the seed")]

    def run(self, case):
        return {"grads": neuron_by_gates(case.data["w"], case.data["x"])}

    @staticmethod
    def inputs(case):
        return [np.concatenate([case.data["w"], case.data["x"]])]

    @staticmethod
    def function(case, values):
        w0, w1, w2, x0, x1 = values
        return 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))


class CircuitExample(CourseExample):
    """Notebook 3: f = c (x y + max(z, w)), backward gate by gate with the student's gates."""

    name, module, path = "circuit_example", "gates", "backprop_lib/gates.py"
    title = "course example: the circuit 2 (x y + max(z, w)) with your gates"
    labels = ("x", "y", "z", "w")

    def cases(self, seed):
        rng = np.random.default_rng(seed)
        while True:
            values = rng.uniform(-3, 3, 4)
            if abs(values[2] - values[3]) >= KINK_MARGIN:
                break
        course = Case({key: np.array(value) for key, value in CIRCUIT.items()}, "the course's circuit")
        return [course, Case({"inputs": values, "c": np.array(rng.uniform(0.5, 3))}, "a circuit from the seed")]

    def run(self, case):
        return {"grads": circuit_by_gates(case.data["inputs"], case.data["c"])}

    @staticmethod
    def inputs(case):
        return [np.asarray(case.data["inputs"], dtype=np.float64)]

    @staticmethod
    def function(case, values):
        x, y, z, w = values
        return float(case.data["c"]) * (x * y + max(z, w))


class EngineCourseExamples(CourseExample):
    """Notebook 4: both course examples through the student's engine, one ``backward`` call each."""

    name, module, path = "engine_course_examples", "graph", "backprop_lib/graph.py"
    title = "course examples: the sigmoid neuron and the circuit through your engine"
    labels = ("w0", "w1", "w2", "x0", "x1", "x", "y", "z", "w")

    def cases(self, seed):
        neuron, circuit = SigmoidNeuronExample().cases(seed), CircuitExample().cases(seed)
        return [
            Case(one.data | other.data, f"{one.note}; {other.note}") for one, other in zip(neuron, circuit, strict=True)
        ]

    def run(self, case):
        neuron = neuron_through_engine(case.data["w"], case.data["x"])
        return {"grads": np.concatenate([neuron, circuit_through_engine(case.data["inputs"], case.data["c"])])}

    def expected(self, case):
        return np.concatenate([SigmoidNeuronExample().expected(case), CircuitExample().expected(case)])


def two_layer_loss(x, labels, W1, b1, W2, b2):
    """The capstone network's mean softmax cross-entropy, the checker's own numpy."""
    scores = np.maximum(x @ W1 + b1, 0.0) @ W2 + b2
    log_probs = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
    return -np.mean(log_probs[np.arange(len(labels)), labels])


def two_layer_accuracy(x, labels, W1, b1, W2, b2):
    scores = np.maximum(x @ W1 + b1, 0.0) @ W2 + b2
    return float(np.mean(scores.argmax(axis=1) == labels))


PARAMETERS = ("W1", "b1", "W2", "b2")


class NetworkGradientCheck:
    """Notebook 7: every parameter's gradient of the capstone network, through the student's engine."""

    kind = COURSE_EXAMPLE
    name, module, path = "network_gradient_check", "graph", "backprop_lib/graph.py"
    title = "course example: gradient check of the whole two-layer network"
    TOLERANCE = 1e-6

    def cases(self, seed):
        from backprop_lib.kit.capstone import initial_parameters, make_spiral

        x, labels = make_spiral()
        course = self._case(x[10::60], labels[10::60], initial_parameters(2, 10, 3, seed=1), "the notebook's check")
        rng = np.random.default_rng(seed)
        while True:
            rows = rng.choice(len(x), 6, replace=False)
            parameters = initial_parameters(2, 8, 3, seed=int(rng.integers(1 << 16)))
            parameters = (parameters[0], rng.normal(scale=0.1, size=8), parameters[2], parameters[3])
            if np.min(np.abs(x[rows] @ parameters[0] + parameters[1])) >= KINK_MARGIN:
                return [
                    course,
                    self._case(x[rows], labels[rows], parameters, "six spiral points, a network from the seed"),
                ]

    @staticmethod
    def _case(x, labels, parameters, note):
        return Case({"x": x, "labels": labels} | dict(zip(PARAMETERS, parameters, strict=True)), note)

    def run(self, case):
        from backprop_lib.graph import backward, softmax_cross_entropy
        from backprop_lib.kit.capstone import TwoLayerNet

        net = TwoLayerNet.from_values(*(case.data[p] for p in PARAMETERS))
        backward(softmax_cross_entropy(net.scores(case.data["x"]), case.data["labels"]))
        return {
            f"d{p}": np.array(node.grad, dtype=np.float64) for p, node in zip(PARAMETERS, net.parameters, strict=True)
        }

    def judge(self, case, got):
        result = CheckResult(self.name, self.path, FAILED, details=[f"case: {case.note}"])
        x, labels = case.data["x"], case.data["labels"]
        numeric, _ = numerical_vjp(
            lambda *ps: two_layer_loss(x, labels, *ps), [case.data[p] for p in PARAMETERS], np.array(1.0)
        )
        for name, expected in zip(PARAMETERS, numeric, strict=True):
            found = got[f"d{name}"]
            if found.shape != expected.shape:
                result.summary = f"dE/d{name} has shape {found.shape}, expected {expected.shape}"
                return result
            error = float(np.max(relative_error(expected, found)))
            if not close(expected, found):
                result.summary = f"dE/d{name} differs from centered differences: relative error {error:.1e}"
                return result
        result.status, result.details = PASSED, []
        return result


class SpiralTraining:
    """Notebook 7: a short training run on a spiral with the student's engine reaches the stated accuracy.

    The check trains a smaller network than the notebook (50 hidden units, 300 full-batch steps, well
    under a second) and measures the accuracy with the checker's own forward on the training spiral and
    on a fresh one.
    """

    kind = COURSE_EXAMPLE
    name, module, path = "spiral_training", "graph", "backprop_lib/graph.py"
    title = "course example: training on the spiral reaches 95% (fresh spiral: 90%)"
    HIDDEN, STEPS, LEARNING_RATE = 50, 300, 1.0
    TRAINING, FRESH = 0.95, 0.90

    def cases(self, seed):
        from backprop_lib.kit.capstone import initial_parameters, make_spiral

        x, labels = make_spiral(seed=seed)
        fresh_x, fresh_labels = make_spiral(seed=seed + 1)
        parameters = initial_parameters(2, self.HIDDEN, 3, seed=seed)
        data = {"x": x, "labels": labels, "fresh_x": fresh_x, "fresh_labels": fresh_labels}
        return [Case(data | dict(zip(PARAMETERS, parameters, strict=True)), f"spirals from seeds {seed}, {seed + 1}")]

    def run(self, case):
        from backprop_lib.graph import softmax_cross_entropy
        from backprop_lib.kit.capstone import TwoLayerNet, train

        net = TwoLayerNet.from_values(*(case.data[p] for p in PARAMETERS))
        losses = train(net, softmax_cross_entropy, case.data["x"], case.data["labels"], self.STEPS, self.LEARNING_RATE)
        return {
            p: np.array(node.value, dtype=np.float64) for p, node in zip(PARAMETERS, net.parameters, strict=True)
        } | {"losses": np.array(losses, dtype=np.float64)}

    def judge(self, case, got):
        result = CheckResult(self.name, self.path, FAILED, details=[f"case: {case.note}"])
        trained = [got[p] for p in PARAMETERS]
        if any(t.shape != case.data[p].shape for t, p in zip(trained, PARAMETERS, strict=True)):
            result.summary = "the trained parameters changed shape"
            return result
        accuracy = two_layer_accuracy(case.data["x"], case.data["labels"], *trained)
        fresh = two_layer_accuracy(case.data["fresh_x"], case.data["fresh_labels"], *trained)
        losses = got["losses"]
        result.details.insert(0, f"loss {losses[0]:.3g} at the first step, {losses[-1]:.3g} at the last")
        if accuracy < self.TRAINING or fresh < self.FRESH:
            result.summary = (
                f"after {self.STEPS} SGD steps: accuracy {accuracy:.1%} on the training spiral (at least "
                f"{self.TRAINING:.0%} expected), {fresh:.1%} on a fresh one (at least {self.FRESH:.0%})"
            )
            result.diagnose(EXERCISE_FAILS)
            return result
        result.status, result.details = PASSED, []
        return result


COURSE_EXAMPLES = (
    SigmoidNeuronExample(),
    CircuitExample(),
    EngineCourseExamples(),
    NetworkGradientCheck(),
    SpiralTraining(),
)
