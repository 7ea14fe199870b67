"""Data shipped with the console (the demo workspace, icons), loaded through importlib.resources.

Being a package lets the same lookup work from a source checkout, an installed wheel and a bundle.
"""
