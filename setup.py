"""The one compiled part: the compact state table of the packed search.

Optional: without a C compiler the install still succeeds and the search
keeps its states in Python sets and dicts (more memory, same results).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("racecheck.explore._statetable", ["racecheck/explore/_statetable.c"],
                             optional=True)])
