"""Every exercise of the course, by name, in the order the notebooks teach them.

Each exercise has ``name``, ``module``, ``path``, ``title`` and the three-step
protocol ``cases(seed)`` / ``run(case)`` / ``judge(case, got)`` described in
``backprop_lib.kit.exercises.base``.
"""

from backprop_lib.kit.exercises.derivations import LOGISTIC, SQUARED_ERROR
from backprop_lib.kit.exercises.graphs import BackwardExercise, TopologicalSortExercise
from backprop_lib.kit.exercises.operation_specs import SPECS
from backprop_lib.kit.exercises.operations import OperationExercise

EXERCISES = {
    exercise.name: exercise
    for exercise in (
        SQUARED_ERROR,
        LOGISTIC,
        *(OperationExercise(spec) for spec in SPECS),
        TopologicalSortExercise(),
        BackwardExercise(),
    )
}
