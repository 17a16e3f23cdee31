from services.kit.serve import serve

serve("services.gateway.app:create_app")
