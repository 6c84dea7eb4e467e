"""The REST API's shared parts, the browser pages for API tokens and CSV, and the import/export layer.

On top of every app (it may import any app's services and selectors; no app imports it). Each app keeps its own
resources in `<app>/api.py` (serializers and viewsets, thin over its services and selectors); `config/api_urls.py`
routes them all under /api/v1/. Conventions every resource follows:

- Input serializers derive from `api.base.StrictSerializer`: a key the serializer does not declare (owner, status,
  figures, is_staff, created_by…) is a 400 that names it, never silently dropped or applied.
- Reads go through the app's selectors, so another team's object is a 404 and lists hold no foreign rows.
- Writes call the app's services; a service's ValidationError is a 400 with field errors and its PermissionDenied
  a 403 with its message (api/errors.py), in drf-standardized-errors' one error format.
"""
