//! The OpenAPI document, generated from the handlers' annotations and the
//! wire types (utoipa).
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "eryx-server", description = "Python sandboxes (CPython 3.14 on WebAssembly) as a service"),
    paths(
        crate::routes::healthz,
        crate::routes::readyz,
        crate::routes::metrics,
        crate::routes::openapi,
        crate::routes::execute,
        crate::routes::create_session,
        crate::routes::list_sessions,
        crate::routes::session_info,
        crate::routes::session_execute,
        crate::routes::get_state,
        crate::routes::put_state,
        crate::routes::delete_session,
        crate::fork::fork_session,
        crate::files::list_files,
        crate::files::get_file,
        crate::files::put_file,
        crate::files::delete_file,
    ),
    components(schemas(crate::api::ExecutionResult, crate::api::ExecutionError, crate::api::ErrorBody,
        crate::outputs::DisplayOutput,
        crate::files::FileList, crate::files::FileInfo, crate::files::InputFile, crate::files::OutputFile)),
    modifiers(&Bearer)
)]
struct Doc;

/// Declares the bearer API key scheme.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The document served at `/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}
