/* placeholder */
typedef int nono_placeholder_main;
int main(void){return 0;}
