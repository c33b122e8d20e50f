# setuptools needs this file only to hook the cffi build of the C core.
from setuptools import setup

setup(cffi_modules=["pysyms/_build_ffi.py:ffibuilder"])
