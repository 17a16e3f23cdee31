from services.kit.serve import serve

serve("services.notifications.app:create_app")
