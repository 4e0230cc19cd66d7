"""LTI 1.3 for ``grade serve`` (``--lti-config FILE``): students launched from the course's LMS
(Moodle, Canvas...) grade on the service and their score goes back to the LMS's grade book.

Built on pylti1p3 (its tool configuration, OIDC login, launch validation and Assignment and Grade
Services client), with the adapters it has no Starlette version of:

- ``config``: reads the tool configuration (pylti1p3's JSON format) and makes the tool's key pair;
- ``adapters``: pylti1p3's request, cookie, session and redirect seen through Starlette;
- ``launches``: the bounded, expiring stores: the login's nonces and the students' launches;
- ``passback``: the score and its per-check comment, posted through Assignment and Grade Services;
- ``routes``: ``/lti/login``, ``/lti/launch``, ``/lti/jwks`` and the launched student's page.

See docs/lti.md for how a course registers the tool.
"""
