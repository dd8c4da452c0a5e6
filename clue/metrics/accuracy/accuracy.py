"""Accuracy in percent, the metric of the CLUE classification and multiple-choice tasks."""

import datasets
import evaluate

_DESCRIPTION = "Accuracy in percent: the share of predictions equal to their reference, times 100."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of int): predicted label indices.
    references (list of int): gold label indices.
Returns:
    accuracy (float): in percent.
Examples:
    >>> from kexue_models.clue.metrics import load
    >>> load("accuracy").compute(predictions=[0, 1, 1, 2], references=[0, 1, 2, 2])
    {'accuracy': 75.0}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references):
        if not references:
            raise ValueError("accuracy: no examples")
        correct = sum(
            int(prediction == reference) for prediction, reference in zip(predictions, references, strict=True)
        )
        return {"accuracy": 100.0 * correct / len(references)}
