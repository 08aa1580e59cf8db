//! Authorization: path normalization ([`path`]), the route matcher ([`routes`]), requirements,
//! org scoping and decisions ([`decision`]), which rule applies ([`effective`]), and
//! resource isolation for session requests ([`isolation`]).

pub mod decision;
pub mod effective;
pub mod isolation;
pub mod path;
pub mod routes;
