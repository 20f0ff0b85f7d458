"""What crosses the workflow boundary, in one place: the case workflow's updates and signals
(``contracts.case``) and the activities it calls, with their names, options and typed stubs
(``contracts.activities``). Their input and result models live in ``domain.models``."""
