//! Authorization: path normalization ([`path`]), the route matcher ([`routes`]), requirements,
//! org scoping and decisions ([`decision`]), which rule applies ([`effective`]), and
//! resource isolation for session requests ([`isolation`]), step-up authentication per route
//! ([`step_up`]), and CORS answered from config ([`cors`]).

pub mod cors;
pub mod decision;
pub mod effective;
pub mod isolation;
pub mod path;
pub mod routes;
pub mod step_up;
