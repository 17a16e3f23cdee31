from services.kit.serve import serve

serve("services.products.app:create_app")
