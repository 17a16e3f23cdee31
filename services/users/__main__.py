from services.kit.serve import serve

serve("services.users.app:create_app")
