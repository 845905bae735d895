//! (being written: placeholder so the module tree compiles while helpers work)
