"""The workflows this worker runs, registered in one place."""

from workflows.case import CaseWorkflow

WORKFLOWS = [CaseWorkflow]
