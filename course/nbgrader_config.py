"""nbgrader's configuration for a course run from lossbook (chapters/A4_course.md).

`make course` copies this file into _build/course with one nbgrader source notebook per
chapter that has an implementation exercise (source/<stem>/<stem>.ipynb). From there:

    nbgrader generate_assignment 04_entropy_cross_entropy_kl    # release/ for the students
    nbgrader autograde 04_entropy_cross_entropy_kl              # grades submitted/
"""

c = get_config()  # noqa: F821 (nbgrader defines it)

c.CourseDirectory.course_id = "lossbook"

# The chapters' figures and printed results are part of their text: keep them in the release
# (nbgrader clears every output by default). The source notebooks carry no output of a
# solution or of a grader, so nothing of an answer survives either. When autograding, each
# code cell's output is replaced as the cell runs.
c.ClearOutput.enabled = False

# Autograding runs a whole chapter; the longest take a few minutes on a laptop's CPU.
c.ExecutePreprocessor.timeout = 900
