"""The built-in sandbox: a local simulation of the withdrawn Amazon Moments API.

It never imports the GUI or the HTTP client (outside itself only moments_desktop.api_schema and the
resources locator moments_desktop.core.resources); apps reach it over HTTP like any endpoint.
"""

from moments_desktop.sandbox.catalog import Catalog, CatalogError, load_catalog, load_default_catalog

__all__ = ["Catalog", "CatalogError", "load_catalog", "load_default_catalog"]
