from services.kit.serve import serve

serve("services.analytics.app:create_app")
