"""Every exercise of the course, by name.

Each exercise has ``name``, ``module``, ``path``, ``title`` and the three-step
protocol ``cases(seed)`` / ``run(case)`` / ``judge(case, got)`` described in
``backprop_lib.kit.exercises.base``.
"""

from backprop_lib.kit.exercises.derivations import LOGISTIC, SQUARED_ERROR
from backprop_lib.kit.exercises.gradient_check import NUMERICAL_GRADIENT, RELATIVE_ERROR
from backprop_lib.kit.exercises.graphs import BackwardExercise, TopologicalSortExercise
from backprop_lib.kit.exercises.network import NETWORK
from backprop_lib.kit.exercises.operation_specs import SPECS
from backprop_lib.kit.exercises.operations import OperationExercise
from backprop_lib.kit.exercises.residual import RESIDUAL
from backprop_lib.kit.exercises.softmax import SOFTMAX_BACKWARD, SOFTMAX_JACOBIAN

EXERCISES = {
    exercise.name: exercise
    for exercise in (
        NUMERICAL_GRADIENT,
        RELATIVE_ERROR,
        SQUARED_ERROR,
        LOGISTIC,
        *(OperationExercise(spec) for spec in SPECS),
        SOFTMAX_JACOBIAN,
        SOFTMAX_BACKWARD,
        OperationExercise(RESIDUAL),
        OperationExercise(NETWORK),
        TopologicalSortExercise(),
        BackwardExercise(),
    )
}
