//! The MCP server handler (rmcp's `ServerHandler`): server info, the tool
//! list, and dispatching `tools/call` to the session. Unknown tools are a
//! protocol error (-32602); bad arguments and failing code are tool results
//! with `isError: true`, which is what the MCP spec asks for, so the model
//! sees what went wrong and can fix its call.
use super::files::{self, DOWNLOAD_FILE, UPLOAD_FILE};
use super::options::Options;
use super::session::Session;
use super::tools::{self, Environment, RESET_SESSION, RUN_PYTHON};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use std::sync::Arc;

/// What every session of one server shares.
pub struct Shared {
    /// The command line.
    pub options: Arc<Options>,
    /// The tool definitions.
    pub tools: Vec<Tool>,
}

impl Shared {
    /// Definitions written for `env` (what the sandbox offers).
    pub fn new(options: Arc<Options>, env: &Environment) -> Shared {
        let mut tools = tools::definitions(&options, env);
        if !options.stateless {
            tools.extend(files::definitions());
        }
        Shared { options, tools }
    }
}

/// One MCP connection's handler.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
    session: Session,
}

impl Server {
    /// A handler serving `session`.
    pub fn new(shared: Arc<Shared>, session: Session) -> Server {
        Server { shared, session }
    }

    async fn run_python(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let o = &self.shared.options;
        let args = match tools::run_args(request.arguments.as_ref(), o.timeout) {
            Ok(a) => a,
            Err(msg) => return CallToolResult::error(vec![ContentBlock::text(msg)]),
        };
        match self
            .session
            .run(args.code.clone(), args.timeout, context.ct.clone())
            .await
        {
            Ok(run) => tools::result(&run, &args, o.max_output, o.stateless),
            Err(msg) => CallToolResult::error(vec![ContentBlock::text(msg)]),
        }
    }

    async fn reset_session(&self, request: CallToolRequestParams) -> CallToolResult {
        if let Some(k) = request.arguments.as_ref().and_then(|a| a.keys().next()) {
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "{RESET_SESSION}: takes no arguments, got {k:?}"
            ))]);
        }
        if self.shared.options.stateless {
            return CallToolResult::success(vec![ContentBlock::text(
                "Nothing to reset: every run_python call already starts from a fresh interpreter.",
            )]);
        }
        match self.session.reset().await {
            Ok(()) => CallToolResult::success(vec![ContentBlock::text(
                "The Python session was reset: the next run_python call starts in a fresh interpreter \
                 (no variables, functions or imports from before).",
            )]),
            Err(msg) => CallToolResult::error(vec![ContentBlock::text(msg)]),
        }
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("eryx", env!("CARGO_PKG_VERSION"))
                    .with_title("eryx Python sandbox"),
            )
            .with_instructions(if self.shared.options.stateless {
                "Runs Python code in a WebAssembly sandbox: call run_python with the code. \
                 Every call starts from a fresh interpreter."
            } else {
                "Runs Python code in a WebAssembly sandbox: call run_python with the code. \
                 State persists between calls; reset_session starts over."
            })
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.shared.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.shared.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let result = match request.name.as_ref() {
            RUN_PYTHON => self.run_python(request, context).await,
            RESET_SESSION => self.reset_session(request).await,
            UPLOAD_FILE | DOWNLOAD_FILE if self.shared.options.stateless => {
                return Err(McpError::invalid_params(
                    format!("{} is not offered by a --stateless server", request.name),
                    None,
                ))
            }
            UPLOAD_FILE => files::upload(&self.session, request.arguments.as_ref()).await,
            DOWNLOAD_FILE => files::download(&self.session, request.arguments.as_ref()).await,
            other => {
                return Err(McpError::invalid_params(
                    format!(
                        "unknown tool {other:?} (tools: {RUN_PYTHON}, {RESET_SESSION}, \
                         {UPLOAD_FILE}, {DOWNLOAD_FILE})"
                    ),
                    None,
                ))
            }
        };
        Ok(result.into())
    }
}
