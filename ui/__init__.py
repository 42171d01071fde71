"""The desktop app's Qt layer: windows, widgets, models and the task manager that owns its threads.

Signals that carry our frozen records are declared ``Signal(object)``: Qt has no type for a Python
class, so the comment beside each names what it carries.
"""
