"""``grade export PLATFORM``: what a course uploads to the platform where it already grades.

One module per platform (``gradescope``, ``github_classroom``, ``prairielearn``, ``coderunner``)
packages the grader and writes that platform's files; ``cli`` is the subcommand's parser. The pure
renderers of each platform's results are in ``grader.reports``.
"""
