"""服务找人: rules over life events and person data that offer services to those eligible."""
